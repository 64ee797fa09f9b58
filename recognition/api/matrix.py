"""`GET /api/v1/recognition/matrix/?at=`: the recognition matrix as JSON
(DESIGN §7). Public, like `GET recognition/` (DESIGN §7): it is derived
from the public agreements and authorities, drafts left out. As that endpoint
does, it ignores credentials (no key needed, a wrong one is not an error) and
refuses unknown or repeated query parameters (DESIGN §10).

The states are defined in recognition/services/matrix.py.
"""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.instants import describe, iso
from recognition.api.schema import instant_schema
from recognition.api.serializers import InstantField, RequestObjectSerializer, documented_error, query_object
from recognition.services.feasibility import ProblemCode
from recognition.services.matrix import AuthorityEntry, Cell, CellState, Matrix, recognition_matrix


class MatrixQuerySerializer(RequestObjectSerializer):
    at = InstantField(allow_date=True, required=False)


class MatrixProblemSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ProblemCode.choices)
    detail = serializers.CharField()

    class Meta:
        ref_name = "MatrixProblem"


class MatrixAuthoritySerializer(serializers.Serializer):
    issuer = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="The authority's status at the instant")
    recognized = serializers.BooleanField(
        help_text="Recognized by the destination at the instant: the terms held and one of its keys was usable"
    )
    has_usable_key = serializers.BooleanField(
        help_text="One of its keys could sign a credential accepted at the instant (not compromised, inside its "
        "validity; a retired key until its last credentials expire)"
    )
    credential_types = serializers.ListField(
        child=serializers.CharField(), help_text="The types it was recognized for (empty unless recognized)"
    )
    agreements = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the destination's agreements for this authority (any status but draft) at the instant",
    )
    problems = MatrixProblemSerializer(
        many=True,
        help_text="Why every credential under those agreements was rejected at the instant; empty when one of "
        "them could succeed, or when there is none",
    )

    class Meta:
        ref_name = "MatrixAuthority"


class MatrixCellSerializer(serializers.Serializer):
    destination = serializers.CharField()
    origin = serializers.CharField()
    state = serializers.ChoiceField(choices=CellState.choices)
    reciprocal = serializers.BooleanField(help_text="Both directions recognized or partly recognized")
    credential_types = serializers.ListField(
        child=serializers.CharField(), help_text="Types recognized for at least one authority of the origin"
    )
    authorities = MatrixAuthoritySerializer(many=True, help_text="The origin's authorities at the instant")

    class Meta:
        ref_name = "MatrixCell"


class MatrixSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="The instant answered")
    countries = serializers.ListField(
        child=serializers.CharField(), help_text="Countries that had authorities at the instant, in code order"
    )
    cells = MatrixCellSerializer(many=True, help_text="Every (destination, origin) pair, destination-major")

    class Meta:
        ref_name = "RecognitionMatrix"


def _authority(entry: AuthorityEntry) -> dict[str, Any]:
    return {
        "issuer": entry.authority.issuer,
        "name": entry.authority.name,
        "status": entry.authority.status,
        "recognized": entry.recognized,
        "has_usable_key": entry.has_usable_key,
        "credential_types": list(entry.credential_types),
        "agreements": [agreement.id for agreement in entry.agreements],
        "problems": [{"code": problem.code.value, "detail": problem.detail} for problem in entry.problems],
    }


def _cell(cell: Cell) -> dict[str, Any]:
    return {
        "destination": cell.destination,
        "origin": cell.origin,
        "state": cell.state,
        "reciprocal": cell.reciprocal,
        "credential_types": list(cell.credential_types),
        "authorities": [_authority(entry) for entry in cell.authorities],
    }


def present_matrix(matrix: Matrix) -> dict[str, Any]:
    return {"at": iso(matrix.at), "countries": list(matrix.countries), "cells": [_cell(c) for c in matrix.cells]}


MATRIX_DESCRIPTION = """\
Every (destination, origin) pair of the countries that had authorities at `at`, answered from history.
For destination ≠ origin, `state` is:

- `recognized`: every active authority of the origin recognized under an agreement in force, all for the same
  credential types;
- `cannot_succeed`: recognized on paper, every credential rejected: some active authority recognized, but
  every recognized one only under agreements that cannot succeed (in practice a minimum assurance above what the
  authority is accredited to issue; each authority's `problems` say why);
- `partly_recognized`: some active authority recognized and able to succeed, but not every one, or not all for
  the same types;
- `suspended`: none recognized, but one would be were it not for a suspension (an agreement suspended inside its
  validity window, or an authority suspended while its agreement is in force);
- `none`: no agreement, or only drafts, terminated agreements, agreements outside their window, revoked
  authorities, or authorities with no usable key.

An authority is recognized only while one of its keys was usable at `at` (`has_usable_key`: it could sign
a credential accepted then), as in `GET recognition/` and TRQP, which answer recognized-or-not and so still
say recognized for a pair in `cannot_succeed`. The diagonal is `domestic`. `reciprocal` marks pairs recognized
(or partly) both ways. Drafts are left out. Answered at `at` with the authorities' accreditation of that time."""


class RecognitionMatrixApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="recognition_matrix",
        tags=["recognition"],
        parameters=[
            OpenApiParameter(
                "at",
                instant_schema(allow_date=True),
                description=f"The instant: {describe(allow_date=True)}. Default: now. A future instant is answered "
                "from today's rules.",
            )
        ],
        responses={
            200: MatrixSerializer,
            400: documented_error(
                "`at` is not an RFC 3339 UTC instant or a date, or a parameter is unknown or repeated; the "
                "detail names the parameter",
            ),
            503: documented_error("The registry cannot reach its database"),
        },
        examples=[
            OpenApiExample(
                "CN recognizes CL",
                response_only=True,
                value={
                    "at": "2026-03-01T00:00:00Z",
                    "countries": ["CL", "CN"],
                    "cells": [
                        {
                            "destination": "CN",
                            "origin": "CL",
                            "state": "recognized",
                            "reciprocal": True,
                            "credential_types": ["merchant-identity"],
                            "authorities": [
                                {
                                    "issuer": "https://demo-registro.cl.example/issuer",
                                    "name": "Registro de Empresas y Sociedades (demo)",
                                    "status": "active",
                                    "recognized": True,
                                    "has_usable_key": True,
                                    "credential_types": ["merchant-identity"],
                                    "agreements": [1],
                                    "problems": [],
                                }
                            ],
                        }
                    ],
                },
            ),
            OpenApiExample(
                "CN recognizes KH on paper, every credential rejected",
                response_only=True,
                value={
                    "at": "2026-03-01T00:00:00Z",
                    "countries": ["CN", "KH"],
                    "cells": [
                        {
                            "destination": "CN",
                            "origin": "KH",
                            "state": "cannot_succeed",
                            "reciprocal": False,
                            "credential_types": ["merchant-identity"],
                            "authorities": [
                                {
                                    "issuer": "https://demo-moc.kh.example/issuer",
                                    "name": "Ministry of Commerce Business Registration (demo)",
                                    "status": "active",
                                    "recognized": True,
                                    "has_usable_key": True,
                                    "credential_types": ["merchant-identity"],
                                    "agreements": [12],
                                    "problems": [
                                        {
                                            "code": "assurance_above_accreditation",
                                            "detail": "Cambodia's authority may issue at most low, this agreement "
                                            "asks substantial",
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                },
            ),
        ],
        summary="The recognition matrix at an instant",
        description=MATRIX_DESCRIPTION,
    )
    def get(self, request: Request) -> Response:
        query = MatrixQuerySerializer(data=query_object(request))
        query.is_valid(raise_exception=True)
        matrix = recognition_matrix(at=query.validated_data.get("at") or timezone.now())
        return Response(present_matrix(matrix))
