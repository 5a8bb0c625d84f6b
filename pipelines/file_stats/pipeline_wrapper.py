"""Split uploaded text files into chunks and report on them: shows a multipart endpoint, runs offline."""

from fastapi import HTTPException, UploadFile
from haystack import Pipeline
from haystack.components.converters import TextFileToDocument
from haystack.components.preprocessors import DocumentSplitter
from haystack.dataclasses import ByteStream

from core import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = Pipeline()
        self.pipeline.add_component("converter", TextFileToDocument())
        self.pipeline.add_component("splitter", DocumentSplitter(split_by="word", split_length=100))
        self.pipeline.connect("converter.documents", "splitter.documents")

    def run_api(self, files: list[UploadFile] | None = None, encoding: str = "utf-8") -> list[dict]:
        """Split each uploaded text file into chunks of 100 words.

        Args:
            files: Text files.
            encoding: Their text encoding.

        Returns:
            One entry per file: its name, size in bytes, words and chunks.
        """
        if not files:
            raise HTTPException(status_code=422, detail="Send at least one file in the 'files' form field")
        sources = [ByteStream(data=f.file.read(), meta={"file_name": f.filename, "encoding": encoding}) for f in files]
        result = self.pipeline.run({"converter": {"sources": sources}})
        stats = {
            s.meta["file_name"]: {"name": s.meta["file_name"], "bytes": len(s.data), "words": 0, "chunks": 0}
            for s in sources
        }
        for document in result["splitter"]["documents"]:
            entry = stats[document.meta["file_name"]]
            entry["chunks"] += 1
            entry["words"] += len(document.content.split())
        return list(stats.values())
