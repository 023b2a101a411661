"""Routes of CASOS on the shared v1 router."""

from cases.api.views import CaseAttachmentViewSet, CaseCommentViewSet, CaseTypeViewSet, CaseViewSet, SlaPolicyViewSet


def register(router) -> None:
    router.register("cases", CaseViewSet, basename="case")
    router.register("case-comments", CaseCommentViewSet, basename="case-comment")
    router.register("case-attachments", CaseAttachmentViewSet, basename="case-attachment")
    router.register("case-types", CaseTypeViewSet, basename="case-type")
    router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
