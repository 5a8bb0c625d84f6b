"""OpenAI-compatible endpoints over pipeline wrappers, as Hayhooks serves them.

`POST /v1/chat/completions` calls a wrapper's `run_chat_completion[_async](model, messages, body)`,
`POST /v1/responses` its `run_response[_async](model, input_items, body)`; `GET /v1/models` lists the
pipelines; `POST /v1/files` hands an upload to the first wrapper with `run_file_upload[_async]` (each path
also without `/v1`). The `model` is the pipeline name.
"""
