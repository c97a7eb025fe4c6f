-- _new_items: the items frame registered by pipelines.history.feedback.
INSERT INTO feedback_items BY NAME SELECT * FROM _new_items
