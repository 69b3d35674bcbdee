from __future__ import annotations

import pytest
from django.test import Client

from relasi.tenancy.services import api_key_create, api_key_revoke


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_right_key_returns_its_workspace(acme, alice) -> None:
    issued = api_key_create(workspace=acme, actor=alice, name="CRM sync")
    response = Client().get("/api/v1/workspace", **bearer(issued.token))
    assert response.status_code == 200
    assert response.json() == {
        "slug": "acme",
        "name": "Acme Indonesia",
        "time_zone": "Asia/Jakarta",
        "withholds_income_tax": False,
    }
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is not None


@pytest.mark.parametrize("kind", ["wrong", "revoked", "missing", "malformed"])
def test_bad_keys_get_401_problem_details(kind: str, acme, alice) -> None:
    issued = api_key_create(workspace=acme, actor=alice, name="CRM sync")
    headers = {
        "wrong": bearer(issued.token[:-4] + "AAAA"),
        "revoked": bearer(issued.token),
        "missing": {},
        "malformed": {"HTTP_AUTHORIZATION": "Token abc"},
    }[kind]
    if kind == "revoked":
        api_key_revoke(workspace=acme, actor=alice, api_key_id=issued.api_key.pk)
    response = Client().get("/api/v1/workspace", **headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://relasi.dev/problems/unauthenticated",
        "title": "Authentication required.",
        "status": 401,
        "detail": "Send a valid, unrevoked API key as `Authorization: Bearer <key>`.",
    }


def test_session_auth_needs_membership_of_the_named_workspace(
    acme, globex, alice, charlie, client_for
) -> None:
    assert client_for(alice).get("/api/v1/workspace", HTTP_X_WORKSPACE="acme").json()["slug"] == "acme"
    assert client_for(charlie).get("/api/v1/workspace", HTTP_X_WORKSPACE="acme").status_code == 404
    assert client_for(alice).get("/api/v1/workspace").status_code == 401


def test_openapi_and_docs_are_served(db) -> None:
    spec = Client().get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "Relasi API"
    assert "/api/v1/workspace" in spec.json()["paths"]
    docs = Client().get("/api/v1/docs")
    assert docs.status_code == 200
    # Swagger UI comes from Relasi's own static files: the docs work without internet access
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle" in html
    assert "cdn." not in html


def test_unknown_api_path_is_a_404(acme, alice) -> None:
    issued = api_key_create(workspace=acme, actor=alice, name="x")
    assert Client().get("/api/v1/nope", **bearer(issued.token)).status_code == 404
    # a trailing slash or another version is a problem document too, not an HTML page
    for path in ("/api/v1/workspace/", "/api/v2/customers"):
        response = Client().get(path, **bearer(issued.token))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert (
            response.json()["detail"] == f"No endpoint at {path}. The endpoints are listed at /api/v1/docs."
        )


def test_health_and_readiness(db, settings) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}
    assert Client().get("/readyz").json() == {"status": "ok", "checks": {"database": "ok"}}
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    not_ready = Client().get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["broker"] == "error: ConnectionError"
