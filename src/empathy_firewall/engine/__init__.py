"""The rule engine: rule pack loading and validation, conditions, evaluation."""
