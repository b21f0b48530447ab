"""OpenAPI generation: every operation documents the error answers it can give.

drf-spectacular documents only the success answer by default; a client (and schemathesis'
conformance check) needs the 4xx answers too, all in the one error shape of errors.py.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, readable.")
    code = serializers.CharField(required=False, help_text="A stable error code.")
    # DRF moves declared fields out of the class, so this does not hide Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field errors (400 only): field name → messages; nested fields are dotted.",
    )

    class Meta:
        ref_name = "Error"


_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each field.",
    "401": "No valid token (`Authorization: Token <key>`).",
    "403": "The caller's profile may never do this.",
    "404": "Absent, or outside the caller's scope.",
    "409": "The object's state forbids it.",
    "413": "The request body is larger than the server accepts.",
    "429": "Too many failed logins (django-axes): locked for a while.",
    "503": "A platform maintenance is running: partner administrators are locked out (R8).",
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        codes = ["400", "404"]
        if not self._allows_anonymous():
            codes[1:1] = ["401", "403"]
            codes.append("503")
        if self.method not in {"GET", "HEAD", "OPTIONS"}:
            codes.append("409")
        if self.method in {"POST", "PUT", "PATCH"}:
            codes.append("413")
        codes += [c for c in getattr(self.view, "extra_error_codes", []) if c not in codes]
        for code in sorted(codes):
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = _DESCRIPTIONS[code]
                responses[code] = response
        return responses

    def get_tags(self) -> list[str]:
        # /api/v1/<resource>/… → the resource, so the docs group by resource, not by "v1".
        parts = [p for p in self.path.split("/") if p and not p.startswith("{")]
        return [parts[2] if len(parts) > 2 else parts[-1]]

    def _allows_anonymous(self) -> bool:
        return any(isinstance(p, AllowAny) for p in self.view.get_permissions())


class IdOrNameFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "ucfleet.api.fields.IdOrNameField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return {
            "oneOf": [
                {**(build_basic_type(OpenApiTypes.INT) or {}), "minimum": 1, "maximum": 2**63 - 1},
                {**(build_basic_type(OpenApiTypes.STR) or {}), "minLength": 1, "maxLength": 50},
            ],
            "description": "A software version's id or its name.",
        }
