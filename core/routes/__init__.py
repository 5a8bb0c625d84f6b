"""HTTP routes of the pipeline-serving app, one module per concern."""

from core import no_pydantic_v1

no_pydantic_v1.install()  # before this package's modules declare their routes
