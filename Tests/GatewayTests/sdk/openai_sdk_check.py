"""Drives the gateway with the official `openai` Python SDK: chat, streaming (with usage),
embeddings and errors. Run by SDKTests.swift; prints one line per check and exits non-zero
on the first failure.

Environment: GATEWAY_BASE_URL (e.g. http://127.0.0.1:8082/v1), GATEWAY_API_KEY (any string
while the gateway runs without auth; an API key or access token once tenancy requires one),
CHAT_MODEL, EMBEDDINGS_MODEL (optional: skipped when unset).
"""
import os
import sys

import openai

base_url = os.environ["GATEWAY_BASE_URL"]
api_key = os.environ.get("GATEWAY_API_KEY", "not-needed")
chat_model = os.environ.get("CHAT_MODEL", "simulator-fast")
embeddings_model = os.environ.get("EMBEDDINGS_MODEL")

client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)


def check(name, condition, detail=""):
    if not condition:
        print(f"FAIL {name} {detail}")
        sys.exit(1)
    print(f"ok {name}")


models = client.models.list()
ids = [m.id for m in models.data]
check("models.list", chat_model in ids, ids)

messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me about gateways."}]
completion = client.chat.completions.create(model=chat_model, messages=messages, max_tokens=50)
text = completion.choices[0].message.content
check("chat.content", isinstance(text, str) and len(text) > 0, completion)
check("chat.role", completion.choices[0].message.role == "assistant")
check("chat.finish_reason", completion.choices[0].finish_reason in ("stop", "length"))
check("chat.usage", completion.usage.completion_tokens > 0 and completion.usage.total_tokens
      == completion.usage.prompt_tokens + completion.usage.completion_tokens, completion.usage)

raw = client.chat.completions.with_raw_response.create(model=chat_model, messages=messages)
check("chat.cost_header", int(raw.headers.get("x-bulkhead-cost-micro-usd", "-1")) >= 0, dict(raw.headers))

stream = client.chat.completions.create(
    model=chat_model, messages=messages, stream=True, stream_options={"include_usage": True})
pieces, usage, roles, finishes, chunks = [], None, [], [], 0
for chunk in stream:
    chunks += 1
    if chunk.usage is not None:
        usage = chunk.usage
    for choice in chunk.choices:
        if choice.delta.role:
            roles.append(choice.delta.role)
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finishes.append(choice.finish_reason)
streamed = "".join(pieces)
check("stream.text", streamed == text or len(streamed) > 0, streamed)
check("stream.same_answer", streamed.startswith(text[: min(len(text), 10)]), (streamed, text))
check("stream.role_first", roles == ["assistant"], roles)
check("stream.finish_reason", len(finishes) == 1, finishes)
check("stream.usage", usage is not None and usage.completion_tokens > 0, usage)

try:
    client.chat.completions.create(model="no-such-model", messages=messages)
    check("errors.not_found", False, "no exception")
except openai.NotFoundError as e:
    check("errors.not_found", e.status_code == 404 and "no-such-model" in str(e), str(e))

try:
    client.chat.completions.create(model=chat_model, messages=[{"role": "wizard", "content": "hi"}])
    check("errors.bad_request", False, "no exception")
except openai.BadRequestError as e:
    check("errors.bad_request", e.status_code == 400 and "wizard" in str(e) and e.body.get("param") == "messages[0].role", e.body)

try:
    client.chat.completions.create(model=chat_model, messages=messages, temperature=5)
    check("errors.temperature", False, "no exception")
except openai.BadRequestError as e:
    check("errors.temperature", e.body.get("param") == "temperature", e.body)

if embeddings_model:
    emb = client.embeddings.create(model=embeddings_model, input=["hello world", "second text"])
    check("embeddings.count", len(emb.data) == 2)
    check("embeddings.vector", len(emb.data[0].embedding) > 0)
    check("embeddings.usage", emb.usage.prompt_tokens > 0, emb.usage)
    try:
        client.embeddings.create(model="no-such-embedder", input="x")
        check("embeddings.not_found", False, "no exception")
    except openai.NotFoundError as e:
        check("embeddings.not_found", e.status_code == 404)

print("ALL OK")
