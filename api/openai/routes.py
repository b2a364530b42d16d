"""The OpenAI-compatible API: `POST /v1/chat/completions` (plain and streamed) and `GET /v1/models`,
so OpenAI SDKs and chat front-ends can talk to Verbatim. It stays extractive: the reply is the
documents' own words plus numbered sources, and a structured `citations` array rides alongside.

Models are collections: `verbatim` is the default collection, `verbatim:NAME` another one.
Follow-ups are resolved by the service's conversation handling (`QAService.chat`), exactly as for
`/chat`. Errors on `/v1/...` use OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`,
so the SDKs raise their usual exceptions; the rest of the API keeps `{"detail": ...}`.

Auth uses the keys of `api/auth.py`. With no key configured the endpoints are open, like the read
API. With keys configured they need a valid one: OpenAI clients always send a key, so this costs
them nothing, and a mistyped key fails loudly instead of being silently ignored. Private
collections additionally need a key with read scope, as everywhere else."""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import aclosing

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from api.auth import KeyRing, bearer_token, keyring
from api.docview import view_url
from api.openai import errors as openai_errors
from api.openai.errors import OpenAIError
from api.openai.format import citation_dict, collection_of, model_name, render, stream_events, turns_from
from api.openai.schemas import ERRORS, ChatCompletion, ChatCompletionRequest, ModelList
from api.routes import get_service
from qa.conversation import Turn, check_length
from qa.embed.tokens import count_tokens
from qa.errors import Unauthorized
from qa.service import QAService

log = logging.getLogger("verbatim.api.openai")
router = APIRouter(prefix="/v1", tags=["openai-compatible"])


def install(app: FastAPI) -> None:
    """The one line `create_app` needs: the routes, and the error shape scoped to `/v1`."""
    app.include_router(router)
    openai_errors.install(app)


def authenticate(request: Request) -> KeyRing:
    """With keys configured, the bearer token must be one of them (see the module docstring)."""
    ring = keyring(request)
    if ring.keys and ring.identify(bearer_token(request.headers.get("authorization")) or "") is None:
        raise Unauthorized("a valid API key is needed: `Authorization: Bearer KEY`")
    return ring


@router.get("/models", response_model=ModelList, responses=ERRORS, summary="The collections, as models")
def models(request: Request, service: QAService = Depends(get_service)) -> dict:
    """`created` is 0: a collection has index versions, not one creation date."""
    ring = authenticate(request)
    auth = request.headers.get("authorization")
    default = service.settings.collection
    names = [n for n in service.collections() if ring.may_read(auth, n)]
    return {"object": "list", "data": [{"id": model_name(n, default), "object": "model", "created": 0} for n in names]}


# One server-sent event, as SSE parsers (and OpenAPI 3.2's itemSchema) see it: its `data` field.
STREAM = {200: {"content": {"text/event-stream": {"schema": {
    "type": "object", "required": ["data"], "description": "With `stream: true`, one event of the stream.",
    "properties": {"data": {"type": "string", "description": "A `chat.completion.chunk` as JSON; the last event is `[DONE]`."}},
}}}}}


@router.post("/chat/completions", response_model=ChatCompletion, responses=ERRORS | STREAM, summary="Answer the last user message")
async def chat_completions(body: ChatCompletionRequest, request: Request, service: QAService = Depends(get_service)):
    """The answer is computed completely before any byte is sent, in the thread pool; streaming
    then only writes it out. So the first chunk leaves as soon as the answer is known, errors are
    ordinary JSON responses with a status, and a client that hangs up mid-stream leaves nothing
    running (the generator is closed on disconnect)."""
    ring = authenticate(request)
    collection = await run_in_threadpool(_collection, service, body.model)
    ring.check(request.headers.get("authorization"), collection, "read")
    reply = await run_in_threadpool(_reply, service, _turns(body), collection, body)
    for citation in reply["extras"]["citations"]:
        citation["view_url"] = view_url(request, collection, citation)
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": body.model, "system_fingerprint": None}
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return SSEResponse(stream_events(base, reply["content"], reply["extras"], reply["usage"] if include_usage else None))
    message = {"role": "assistant", "content": reply["content"], "refusal": None}
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    return {**base, "object": "chat.completion", "choices": [choice], "usage": reply["usage"], **reply["extras"]}


def _collection(service: QAService, model: str) -> str:
    name = collection_of(model, service.settings.collection)
    if name is None or name not in service.collections():
        raise OpenAIError(
            404, f"The model {model!r} does not exist. Models are `verbatim` (the default collection) and "
            "`verbatim:NAME` for another collection; GET /v1/models lists them.", "invalid_request_error", "model_not_found", "model",
        )
    return name


def _turns(body: ChatCompletionRequest) -> list[Turn]:
    check_length([m.text for m in body.messages])  # content parts have no cap of their own
    turns = turns_from([(m.role, m.text) for m in body.messages])
    if turns is None:
        raise OpenAIError(400, "`messages` has no user message to answer.", param="messages", code="invalid_messages")
    return turns


def _reply(service: QAService, turns: list[Turn], collection: str, body: ChatCompletionRequest) -> dict:
    """The blocking part, run in the thread pool: answer, `content`, extras and usage."""
    rewritten, result = service.chat(turns, None, collection, body.domain_filters(), body.min_score, body.answer_unit)
    content, citations = render(result)
    extras = {
        "citations": [citation_dict(c) for c in citations],
        "verbatim": {"answer": result.answer, "score": result.answers[0].score if result.answers else None,
                     "query": rewritten.query, "rewrite": rewritten.rule, "collection": collection,
                     "min_score": result.min_score},
    }
    usage = _usage(service.encoder.name, [m.text for m in body.messages], content)
    return {"content": content, "extras": extras, "usage": usage}


def _usage(encoder: str, prompt: list[str], content: str) -> dict:
    """Token counts with the encoder's own tokenizer (`qa/embed/tokens.py`): prompt = every message's
    text as sent, completion = `content`. All 0 (documented) when the encoder has no tokenizer."""
    prompt_tokens, completion_tokens = count_tokens(encoder, prompt), count_tokens(encoder, [content])
    if prompt_tokens is None or completion_tokens is None:
        return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}


class SSEResponse(StreamingResponse):
    """Server-sent events whose generator is closed as soon as the client goes away (Starlette
    cancels the writer on `http.disconnect`; `aclosing` makes the generator's end deterministic
    instead of leaving it to the garbage collector)."""

    media_type = "text/event-stream"

    def __init__(self, events) -> None:
        super().__init__(_logged(events), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def stream_response(self, send) -> None:
        async with aclosing(self.body_iterator):
            await super().stream_response(send)


async def _logged(events):
    """Yield the prepared events; say how far it got when the client hung up."""
    sent = 0
    finished = False
    try:
        for event in events:
            yield event
            sent += 1
        finished = True
    finally:
        if not finished:
            log.info("stream closed by the client after %d events", sent)
