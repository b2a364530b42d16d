"""A running Verbatim server, for the commands that can use one instead of loading the models in
their own process (`qa ask --url`, `qa eval --url`): the same questions over HTTP, the server's
errors as the domain's errors, so the CLI reports them as it reports its own."""

from __future__ import annotations

from qa.errors import Forbidden, InvalidInput, NotFound, NotReady, QAError, Unauthorized
from qa.types import AnswerUnit

ERRORS: dict[int, type[QAError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound, 422: InvalidInput, 503: NotReady}


class Remote:
    """`POST /ask`, `POST /chat` and `GET /documents/{doc_id}` of the server at `url`, over one connection."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 120.0) -> None:
        """`api_key` (the caller's `QA_API_KEY`) goes as `Authorization: Bearer`: a server with
        keys answers a private collection, or any with `QA_PRIVATE_COLLECTIONS=*`, only with one."""
        import httpx  # imported on use: only the commands given --url need it

        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        self.client = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)

    def ask(self, question: str, top_k: int, collection: str | None = None, filters: dict | None = None,
            min_score: float | None = None, unit: AnswerUnit | None = None) -> dict:
        """The `/ask` reply. No collection (or unit): the server's default, as for any HTTP client."""
        body = {"question": question, "top_k": top_k, "collection": collection, "filters": filters or None,
                "min_score": min_score, "answer_unit": unit}
        return self.request("POST", "/ask", json={k: v for k, v in body.items() if v is not None})

    def chat(self, messages: list[dict], top_k: int, collection: str | None = None, unit: AnswerUnit | None = None) -> dict:
        """The `/chat` reply to the last message of `messages` (role, content), oldest first."""
        body = {"messages": messages, "top_k": top_k, "collection": collection, "answer_unit": unit}
        return self.request("POST", "/chat", json={k: v for k, v in body.items() if v is not None})

    def document(self, doc_id: str, collection: str | None = None) -> dict:
        return self.request("GET", f"/documents/{doc_id}", params={"collection": collection} if collection else None)

    def request(self, method: str, path: str, **kwargs) -> dict:
        """The JSON reply; an error status raises the matching domain error with the server's
        own `detail`, naming the server."""
        import httpx

        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise NotReady(f"cannot reach {self.url}: {exc}") from None
        if response.status_code == 200:
            return response.json()
        try:
            detail = response.json()["detail"]
        except (ValueError, KeyError, TypeError):
            detail = response.text[:300]
        error = ERRORS.get(response.status_code, QAError)
        raise error(f"{self.url}{path} answered {response.status_code}: {detail}")
