"""The CLD rule catalogue: field contract, logical rules and quantitative expectations."""
