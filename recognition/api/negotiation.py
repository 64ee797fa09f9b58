"""The content negotiation of every API view (settings
DEFAULT_CONTENT_NEGOTIATION_CLASS), TRQP included.

A view with one renderer answers with it whatever the Accept header says,
without parsing it (RFC 9110 §12.5.1 lets a server disregard Accept): an
Accept header never turns an answer into a 406, and `?format=` is the audit
export's own parameter, not a renderer override. With more than one renderer
(DEBUG's browsable API beside JSON) DRF negotiates as usual. Errors are JSON.
"""

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class SingleRendererNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        if len(renderers) == 1 and format_suffix is None:
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
