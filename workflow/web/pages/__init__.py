"""The server-rendered pages, one router per concern."""

from fastapi import APIRouter, Depends

from workflow.web.deps import shared_reads
from workflow.web.pages import account, admin, docs, initiatives, login, steps

router = APIRouter(include_in_schema=False, dependencies=[Depends(shared_reads)])
for module in (login, initiatives, steps, account, admin, docs):
    router.include_router(module.router)
