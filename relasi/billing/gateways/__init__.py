"""Payment gateways behind one interface (relasi.billing.gateways.base), chosen by PAYMENT_GATEWAY."""

from __future__ import annotations

from django.conf import settings

from relasi.billing.gateways.base import Gateway


def gateway_named(name: str) -> Gateway | None:
    """The adapter of a gateway by name, or None for a name Relasi does not know."""
    if name == "sandbox":
        from relasi.billing.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    if name == "xendit":
        from relasi.billing.gateways.xendit import XenditGateway

        return XenditGateway()
    if name == "midtrans":
        from relasi.billing.gateways.midtrans import MidtransGateway

        return MidtransGateway()
    return None


def gateway_current() -> Gateway:
    """The gateway invoices are paid through now (PAYMENT_GATEWAY)."""
    gateway = gateway_named(settings.PAYMENT_GATEWAY)
    assert gateway is not None, "settings refuse an unknown PAYMENT_GATEWAY"
    return gateway
