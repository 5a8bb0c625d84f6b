"""HTTP routes of the pipeline-serving app, one module per concern."""
