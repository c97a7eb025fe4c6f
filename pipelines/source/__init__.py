"""What comes in: the source-table contract (``tables``), the case-management extract
(``extract``), the providers' feeds (``feeds``) and the NHS-number feedback file (``feedback``).

The synthetic sample council (``pipelines/sample/``) builds its database from ``tables``; nothing
here imports the sample.
"""
