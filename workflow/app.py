"""Wiring: settings → database, flow registry, renderer and engine, built once per process."""

import gc
from dataclasses import dataclass
from functools import cached_property

from workflow.db import Database
from workflow.engine import Engine
from workflow.registry import FlowRegistry, load_region
from workflow.settings import Settings, load_settings


@dataclass
class App:
    settings: Settings
    db: Database
    registry: FlowRegistry

    @cached_property
    def engine(self) -> Engine:
        from notifications.render import TemplateRenderer

        domain = self.settings.mail_from.rpartition("@")[2] or "initiatief.local"
        return Engine(
            self.db,
            self.registry,
            renderer=TemplateRenderer(),
            base_url=self.settings.base_url,
            mail_domain=domain,
        )


def open_app(settings: Settings | None = None) -> App:
    settings = settings or load_settings()
    return App(settings, Database(settings.database_url), load_region(settings.flows_module))


def settle() -> None:
    """Call once a long-running process has built everything it keeps (app, routes, templates).

    The flows, the mapped tables and the templates are some 130,000 objects that live as long as
    the process. Left to the collector, every full collection walks them all: measured 96 ms,
    landing on whichever request or step happened to allocate at that moment. Frozen, they are
    never scanned again; what requests and steps create is collected as usual.
    """
    gc.collect()
    gc.freeze()
