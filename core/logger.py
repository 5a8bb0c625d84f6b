"""`log`: Hayhooks' logger (loguru's API) writing through this project's logging.

Hayhooks wrappers log with loguru calls: `log.info("took {} ms", ms)`, `log.trace(...)`,
`log.bind(user=u).warning(...)`, `log.opt(colors=True).debug("<yellow>x</yellow>")`. loguru is not
in the Lambda package, and its own sinks would bypass the JSON lines CloudWatch reads. This object
accepts the same calls and hands each one to the standard `logging` module, under the calling module's
name, so it gets the project's format (core/logs.py): `bind`/`contextualize` values and a call's
keyword arguments become fields of the JSON line.

Levels: loguru's TRACE is logged at DEBUG and SUCCESS at INFO (the level names stay in the line), as
HAYHOOKS_LOG_LEVEL=TRACE|SUCCESS already mean DEBUG|INFO here. Sinks are this project's: `log.add` and
`log.remove` are accepted and change nothing. A message that cannot be formatted is logged unformatted
(loguru would raise): a log line must never fail a request.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple


class Level(NamedTuple):
    name: str
    no: int
    color: str
    icon: str


# loguru's level numbers; `logging_no` is what the standard library is asked to log them at
_LEVELS: dict[str, tuple[int, int]] = {
    "TRACE": (5, logging.DEBUG),
    "DEBUG": (10, logging.DEBUG),
    "INFO": (20, logging.INFO),
    "SUCCESS": (25, logging.INFO),
    "WARNING": (30, logging.WARNING),
    "ERROR": (40, logging.ERROR),
    "CRITICAL": (50, logging.CRITICAL),
}
# loguru markup (`<yellow>`, `<fg #BBB>`, `</>`): dropped with opt(colors=True); `\<` is a literal '<'
_MARKUP = re.compile(r"(?<!\\)</?(?:[a-zA-Z][^<>]*)?>")
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_CUSTOM_LEVELS: dict[str, Level] = {}  # levels a wrapper defined with log.level(name, no=...)
_context: ContextVar[dict[str, Any]] = ContextVar("hayhooks_log_context", default={})  # noqa: B039 (never mutated)


class _Options(NamedTuple):
    exception: Any = None
    depth: int = 0
    lazy: bool = False
    colors: bool = False
    raw: bool = False
    capture: bool = True
    record: bool = False


_NO_OPTIONS = _Options()


class HayhooksLogger:
    """loguru's `Logger` calls, written to the standard library's loggers."""

    def __init__(
        self,
        extra: dict[str, Any] | None = None,
        options: _Options = _NO_OPTIONS,
        patcher: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._extra = extra or {}
        self._options = options
        self._patcher = patcher

    # -- logging calls ---------------------------------------------------------------------------------
    def trace(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._log("TRACE", message, args, kwargs)

    def debug(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._log("DEBUG", message, args, kwargs)

    def info(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._log("INFO", message, args, kwargs)

    def success(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._log("SUCCESS", message, args, kwargs)

    def warning(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._log("WARNING", message, args, kwargs)

    def error(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._log("ERROR", message, args, kwargs)

    def critical(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._log("CRITICAL", message, args, kwargs)

    def exception(self, message: Any, *args: Any, **kwargs: Any) -> None:
        options = self._options if self._options.exception else self._options._replace(exception=True)
        HayhooksLogger(self._extra, options, self._patcher)._log("ERROR", message, args, kwargs)

    def log(self, level: str | int, message: Any, *args: Any, **kwargs: Any) -> None:
        self._log(level, message, args, kwargs)

    # -- derived loggers -------------------------------------------------------------------------------
    def bind(self, **extra: Any) -> HayhooksLogger:
        return HayhooksLogger({**self._extra, **extra}, self._options, self._patcher)

    def opt(
        self,
        *,
        exception: Any = None,
        record: bool = False,
        lazy: bool = False,
        colors: bool = False,
        raw: bool = False,
        capture: bool = True,
        depth: int = 0,
        ansi: bool = False,
    ) -> HayhooksLogger:
        options = _Options(exception, depth, lazy, colors or ansi, raw, capture, record)
        return HayhooksLogger(self._extra, options, self._patcher)

    def patch(self, patcher: Callable[[dict[str, Any]], None]) -> HayhooksLogger:
        """The patcher is called with a record dict (`message`, `level`, `extra`) it may change."""
        return HayhooksLogger(self._extra, self._options, patcher)

    @contextmanager
    def contextualize(self, **values: Any) -> Iterator[None]:
        token = _context.set({**_context.get(), **values})
        try:
            yield
        finally:
            _context.reset(token)

    def catch(
        self,
        exception: type[BaseException] | tuple[type[BaseException], ...] = Exception,
        *,
        level: str = "ERROR",
        reraise: bool = False,
        onerror: Callable[[BaseException], Any] | None = None,
        exclude: type[BaseException] | tuple[type[BaseException], ...] | None = None,
        default: Any = None,
        message: str = "An error has been caught in function '{record[function]}', process '{record[process].name}' "
        "({record[process].id}), thread '{record[thread].name}' ({record[thread].id}):",
    ) -> _Catcher:
        if callable(exception) and not isinstance(exception, type):  # used as a bare decorator: @log.catch
            return _Catcher(self, Exception, level, reraise, onerror, exclude, default)(exception)
        return _Catcher(self, exception, level, reraise, onerror, exclude, default)

    # -- configuration: sinks are this project's logging -----------------------------------------------
    def add(self, sink: Any, **kwargs: Any) -> int:
        return 0

    def remove(self, handler_id: int | None = None) -> None:
        return None

    def configure(self, **kwargs: Any) -> list[int]:
        return []

    def enable(self, name: str | None) -> None:
        return None

    def disable(self, name: str | None) -> None:
        return None

    def complete(self) -> None:
        return None

    def level(self, name: str, no: int | None = None, color: str | None = None, icon: str | None = None) -> Level:
        """The level named `name`; with `no` (a new level) or `color`/`icon` (an update), defines it first."""
        known = _CUSTOM_LEVELS.get(name) or _builtin_level(name)
        if no is None and color is None and icon is None:
            if known is None:
                raise ValueError(f"Level '{name}' does not exist")
            return known
        if known is None and no is None:
            raise ValueError(f"Level '{name}' does not exist")
        if known is not None and no is not None and no != known.no:
            raise TypeError(f"Level '{name}' already exists, you can't update its severity no")
        level = Level(name, no if known is None else known.no, color or (known.color if known else ""), icon or "")
        _CUSTOM_LEVELS[name] = level
        return level

    # -- the one path every call takes -----------------------------------------------------------------
    def _resolve(self, level: str | int) -> tuple[str, int]:
        if isinstance(level, int):
            name = logging.getLevelName(level)
            return (name if isinstance(name, str) and not name.startswith("Level ") else f"Level {level}"), level
        if level in _LEVELS:
            return level, _LEVELS[level][1]
        custom = _CUSTOM_LEVELS.get(level)
        if custom is None:
            raise ValueError(f"Level '{level}' does not exist")
        return level, max(custom.no, logging.DEBUG)

    def _log(self, level: str | int, message: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        level_name, level_no = self._resolve(level)
        options = self._options
        frame = sys._getframe(2 + options.depth)
        module = frame.f_globals.get("__name__", "hayhooks")
        logger = logging.getLogger(module)
        if not logger.isEnabledFor(level_no):
            return  # before any formatting: a disabled level costs a lookup
        if options.lazy:
            args = tuple(a() if callable(a) else a for a in args)
            kwargs = {k: v() if callable(v) else v for k, v in kwargs.items()}
        text = str(message)
        if options.colors:
            text = _MARKUP.sub("", text).replace("\\<", "<")
        if not options.raw and (args or kwargs or options.record):
            try:
                if options.record:
                    kwargs = {**kwargs, "record": _record_view(level_name, level_no, frame, module, self._extra)}
                text = text.format(*args, **kwargs)
            except (IndexError, KeyError, ValueError, AttributeError):
                text = " ".join([text, *map(str, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        extra = {**_context.get(), **self._extra}
        if options.capture:
            extra.update({k: v for k, v in kwargs.items() if k != "record"})
        if self._patcher is not None:
            patched = {"extra": extra, "message": text, "level": _level_view(level_name, level_no)}
            self._patcher(patched)
            text = patched["message"]
        record = logger.makeRecord(
            module,
            level_no,
            frame.f_code.co_filename,
            frame.f_lineno,
            text,
            None,
            _exc_info(options.exception),
            frame.f_code.co_name,
            {(f"extra_{k}" if k in _RESERVED else k): v for k, v in extra.items()},
        )
        record.levelname = level_name  # TRACE / SUCCESS keep their name at the level they are logged at
        logger.handle(record)


def _builtin_level(name: str) -> Level | None:
    if name not in _LEVELS:
        return None
    return Level(name, _LEVELS[name][0], "", "")


def _level_view(name: str, no: int) -> Any:
    return type("LevelView", (), {"name": name, "no": no, "__str__": lambda self: name})()


def _record_view(level: str, no: int, frame: Any, module: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The fields of a loguru record that `opt(record=True)` messages commonly read."""
    import os
    import threading

    return {
        "level": _level_view(level, no),
        "name": module,
        "function": frame.f_code.co_name,
        "line": frame.f_lineno,
        "file": os.path.basename(frame.f_code.co_filename),
        "extra": extra,
        "thread": type("ThreadView", (), {"name": threading.current_thread().name, "id": threading.get_ident()})(),
        "process": type("ProcessView", (), {"name": "MainProcess", "id": os.getpid()})(),
    }


def _exc_info(exception: Any) -> Any:
    if exception is None or exception is False:
        return None
    if exception is True:
        info = sys.exc_info()
        return info if info[0] is not None else None
    if isinstance(exception, BaseException):
        return type(exception), exception, exception.__traceback__
    return exception  # already an exc_info tuple


class _Catcher:
    """`log.catch`: logs an exception escaping a block or function, re-raising it only if asked."""

    def __init__(self, logger: HayhooksLogger, exception: Any, level: str, reraise: bool, onerror, exclude, default):
        self._logger, self._exception, self._level = logger, exception, level
        self._reraise, self._onerror, self._exclude, self._default = reraise, onerror, exclude, default

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        return self._handled(exc, depth=2)  # logged as from the `with` block's frame

    def _handled(self, exc: BaseException | None, depth: int) -> bool:
        if exc is None or not isinstance(exc, self._exception):
            return False
        if self._exclude is not None and isinstance(exc, self._exclude):
            return False
        self._logger.opt(exception=exc, depth=depth).log(self._level, "An error has been caught")
        if self._onerror is not None:
            self._onerror(exc)
        return not self._reraise

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def caught(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except BaseException as exc:
                if not self._handled(exc, depth=2):  # logged as from the decorated function's caller
                    raise
                return self._default

        return caught


_LOGGER = HayhooksLogger()
log = _LOGGER

__all__ = ["HayhooksLogger", "log"]
