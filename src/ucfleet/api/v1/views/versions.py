from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.v1.serializers.versions import VersionFlagsSerializer, VersionSerializer
from ucfleet.api.v1.views.base import ApiViewSet
from ucfleet.core.errors import NotFound
from ucfleet.versions.models import SoftwareVersion
from ucfleet.versions.queries import get_version_for, versions_with_tenant_counts


class VersionViewSet(ApiViewSet):
    """Software versions, newest first, with the caller's tenant count per version."""

    queryset = SoftwareVersion.objects.none()
    serializer_class = VersionSerializer

    def load(self, pk: int) -> SoftwareVersion:
        version = versions_with_tenant_counts(self.admin).filter(pk=pk).first()
        if version is None:
            raise NotFound("No such software version.")
        return version

    def list(self, request: Request) -> Response:
        return self.paged(versions_with_tenant_counts(self.admin).order_by("-sort_key", "id"))

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.answer(self.load(self.object_id()))

    @extend_schema(request=VersionFlagsSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change the flags (platform administrators only; 403 for partner administrators)."""
        from ucfleet.versions.services import update_version

        version_id = get_version_for(self.admin, self.object_id()).pk  # 404 before 403
        serializer = VersionFlagsSerializer(data=request.data)
        if not serializer.is_valid():
            if not self.admin.is_platform_admin:
                update_version(self.admin, version_id)  # refuses the profile (403), writes nothing
            serializer.is_valid(raise_exception=True)
        update_version(self.admin, version_id, **serializer.validated_data)
        return self.answer(self.load(version_id))
