#!/usr/bin/env python3
"""Validates recorded HTTP responses against the OpenAPI 3.1 document.

usage: openapi_check.py openapi.json responses.json

responses.json is a list of {"method", "path", "status", "content_type", "body"}; "body" is the
response text. For `text/event-stream` responses "body" is a JSON array of the events' data
objects, validated against the operation's `x-event-data-schema`; for WebSocket messages use
"content_type": "websocket" with a JSON array of server messages (`x-websocket-server-message`).

Every response must match a documented path, method and status, and its body must validate
against the documented schema (JSON Schema 2020-12, `$ref`s into the document). Prints one line
per failure and exits 1 if any; prints a summary and exits 0 otherwise.
"""
import json
import re
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

URI = "urn:bulkhead:openapi"


def pointer(doc, ref):
    """The object a local `$ref` ("#/components/responses/Name") names."""
    node = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def main():
    doc = json.load(open(sys.argv[1]))
    responses = json.load(open(sys.argv[2]))
    registry = Registry().with_resource(URI, Resource(contents=doc, specification=DRAFT202012))

    def resolve(schema):
        return {"$ref": URI + schema["$ref"]} if "$ref" in schema else schema

    templates = []
    for template, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        templates.append((re.compile(pattern), template, item))

    failures = []
    checked = 0

    def walk(node, at):
        """Every `$ref` in the document must name something in it."""
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                try:
                    pointer(doc, ref)
                except (KeyError, TypeError):
                    failures.append(f"{at}: $ref {ref} names nothing in the document")
            for k, v in node.items():
                walk(v, f"{at}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{at}/{i}")

    walk(doc, "#")
    for r in responses:
        path = r["path"].split("?")[0]
        where = f'{r["method"]} {r["path"]} -> {r["status"]}'
        match = next(((t, item) for regex, t, item in templates if regex.match(path)), None)
        if match is None:
            failures.append(f"{where}: path not documented")
            continue
        template, item = match
        operation = item.get(r["method"].lower())
        if operation is None:
            failures.append(f"{where}: method not documented for {template}")
            continue
        response = operation["responses"].get(str(r["status"])) or operation["responses"].get("default")
        if response is None:
            failures.append(f"{where}: status {r['status']} not documented for {r['method']} {template}")
            continue
        if "$ref" in response:  # a shared response under components/responses
            response = pointer(doc, response["$ref"])
        content_type = (r.get("content_type") or "").split(";")[0].strip()
        if content_type == "websocket":
            schema = operation.get("x-websocket-server-message")
            bodies = json.loads(r["body"])
        elif content_type == "text/event-stream":
            media = response.get("content", {}).get("text/event-stream")
            if media is None:
                failures.append(f"{where}: text/event-stream not documented")
                continue
            schema = media.get("x-event-data-schema")
            bodies = json.loads(r["body"])
        else:
            content = response.get("content")
            if not content:
                if r["body"]:
                    failures.append(f"{where}: body present but none documented")
                continue
            media = content.get(content_type)
            if media is None:
                failures.append(f"{where}: content type {content_type!r} not documented (have {sorted(content)})")
                continue
            schema = media.get("schema")
            try:
                bodies = [json.loads(r["body"])]
            except ValueError:
                failures.append(f"{where}: body is not JSON")
                continue
        if schema is None:
            continue
        v = Draft202012Validator(resolve(schema), registry=registry)
        for body in bodies:
            checked += 1
            for error in sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path)):
                location = "/".join(str(p) for p in error.absolute_path) or "(body)"
                failures.append(f"{where}: {location}: {error.message[:300]}")
    for f in failures:
        print("FAIL " + f)
    print(f"checked {len(responses)} responses, {checked} bodies, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
