"""The server-rendered pages, one router per concern."""

from fastapi import APIRouter

from workflow.web.pages import account, admin, docs, initiatives, login, steps

router = APIRouter(include_in_schema=False)
for module in (login, initiatives, steps, account, admin, docs):
    router.include_router(module.router)
