"""Enumerations of the shared customer model (values in English, labels in Spanish)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Persona")
    COMPANY = "company", _("Empresa")


class IdentificationType(models.TextChoices):
    CC = "cc", _("Cédula de ciudadanía (CO)")
    CE = "ce", _("Cédula de extranjería")
    NIT = "nit", _("NIT (CO)")
    CI_EC = "ci_ec", _("Cédula de identidad (EC)")
    RUC = "ruc", _("RUC (EC/PE)")
    DNI = "dni", _("DNI")
    PASSPORT = "passport", _("Pasaporte")


COMPANY_IDENTIFICATIONS = {IdentificationType.NIT, IdentificationType.RUC}


class CivilStatus(models.TextChoices):
    SINGLE = "single", _("Soltero(a)")
    MARRIED = "married", _("Casado(a)")
    COHABITING = "cohabiting", _("Unión libre")
    DIVORCED = "divorced", _("Divorciado(a)")
    WIDOWED = "widowed", _("Viudo(a)")


class Education(models.TextChoices):
    PRIMARY = "primary", _("Primaria")
    SECONDARY = "secondary", _("Secundaria")
    TECHNICAL = "technical", _("Técnica/tecnológica")
    UNIVERSITY = "university", _("Universitaria")
    POSTGRADUATE = "postgraduate", _("Posgrado")
    UNKNOWN = "unknown", _("Sin dato")


class IncomeBand(models.TextChoices):
    """Monthly income in multiples of the local minimum wage (SMMLV / SBU)."""

    UP_TO_1 = "lt1", _("Hasta 1 salario mínimo")
    FROM_1_TO_2 = "1to2", _("1 a 2 salarios mínimos")
    FROM_2_TO_4 = "2to4", _("2 a 4 salarios mínimos")
    FROM_4_TO_8 = "4to8", _("4 a 8 salarios mínimos")
    FROM_8_TO_16 = "8to16", _("8 a 16 salarios mínimos")
    OVER_16 = "gt16", _("Más de 16 salarios mínimos")


class EconomicSector(models.TextChoices):
    AGRICULTURE = "agriculture", _("Agropecuario")
    MANUFACTURING = "manufacturing", _("Industria manufacturera")
    CONSTRUCTION = "construction", _("Construcción")
    COMMERCE = "commerce", _("Comercio")
    TRANSPORT = "transport", _("Transporte y logística")
    HOSPITALITY = "hospitality", _("Hoteles y restaurantes")
    FINANCE = "finance", _("Servicios financieros")
    TECHNOLOGY = "technology", _("Tecnología")
    HEALTH = "health", _("Salud")
    EDUCATION = "education", _("Educación")
    MINING = "mining", _("Minería y energía")
    SERVICES = "services", _("Otros servicios")


class LifecycleStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospecto")
    ACTIVE = "active", _("Activo")
    DORMANT = "dormant", _("Inactivo")
    DELINQUENT = "delinquent", _("En mora")
    WRITTEN_OFF = "written_off", _("Castigado")
    CHURNED = "churned", _("Desertor")


class ChurnReason(models.TextChoices):
    """Why a customer left (DESIGN.md, Resultados: churn with reasons)."""

    POOR_SERVICE = "poor_service", _("Mal servicio")
    DISSATISFACTION = "dissatisfaction", _("Insatisfacción")
    NON_RENEWAL = "non_renewal", _("No renovación")
    PERSONAL = "personal", _("Motivos personales")
    NON_USE = "non_use", _("No uso")
    CANCELLED_NON_PAYMENT = "cancelled_non_payment", _("Cancelación por no pago")
    CANCELLED_MISUSE = "cancelled_misuse", _("Cancelación por mal uso")
    CANCELLED_PLAN_CHANGE = "cancelled_plan_change", _("Cancelación por cambio de plan")


class Channel(models.TextChoices):
    EMAIL = "email", _("Correo electrónico")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    PHONE = "phone", _("Teléfono")
    BRANCH = "branch", _("Agencia")
    WEB = "web", _("Banca en línea")
    APP = "app", _("App móvil")
    MAIL = "mail", _("Correo físico")


class ConsentSource(models.TextChoices):
    BRANCH_FORM = "branch_form", _("Formulario en agencia")
    WEB = "web", _("Banca en línea")
    APP = "app", _("App móvil")
    CALL = "call", _("Llamada grabada")
    CORE_BANKING = "core_banking", _("Core bancario")
    IMPORT = "import", _("Importación")


class ProductCategory(models.TextChoices):
    # "Activo" is also a lifecycle status (active); the context keeps the English apart (asset).
    ASSET = "asset", pgettext_lazy("product category", "Activo")
    LIABILITY = "liability", pgettext_lazy("product category", "Pasivo")
    INSURANCE = "insurance", _("Seguros")
    SERVICE = "service", _("Servicios")


class ProductFamily(models.TextChoices):
    LOAN = "loan", _("Crédito de consumo")
    MORTGAGE = "mortgage", _("Crédito hipotecario")
    CREDIT_CARD = "credit_card", _("Tarjeta de crédito")
    OVERDRAFT = "overdraft", _("Sobregiro / cupo rotativo")
    MICROCREDIT = "microcredit", _("Microcrédito")
    COMMERCIAL_LOAN = "commercial_loan", _("Crédito comercial")
    SAVINGS = "savings", _("Cuenta de ahorros")
    CHECKING = "checking", _("Cuenta corriente")
    TERM_DEPOSIT = "term_deposit", _("CDT / depósito a plazo")
    INVESTMENT = "investment", _("Inversión / fondo")
    LIFE = "life", _("Seguro de vida")
    VEHICLE = "vehicle", _("Seguro de vehículo")
    HEALTH = "health", _("Seguro de salud")
    UNIVERSAL_LIFE = "universal_life", _("Vida universal")
    RECURRING_PAYMENTS = "recurring_payments", _("Pagos recurrentes")
    CASH_MANAGEMENT = "cash_management", _("Cash management")
    PAYROLL = "payroll", _("Pago de nómina")


FAMILY_CATEGORY: dict[str, str] = {
    ProductFamily.LOAN: ProductCategory.ASSET,
    ProductFamily.MORTGAGE: ProductCategory.ASSET,
    ProductFamily.CREDIT_CARD: ProductCategory.ASSET,
    ProductFamily.OVERDRAFT: ProductCategory.ASSET,
    ProductFamily.MICROCREDIT: ProductCategory.ASSET,
    ProductFamily.COMMERCIAL_LOAN: ProductCategory.ASSET,
    ProductFamily.SAVINGS: ProductCategory.LIABILITY,
    ProductFamily.CHECKING: ProductCategory.LIABILITY,
    ProductFamily.TERM_DEPOSIT: ProductCategory.LIABILITY,
    ProductFamily.INVESTMENT: ProductCategory.LIABILITY,
    ProductFamily.LIFE: ProductCategory.INSURANCE,
    ProductFamily.VEHICLE: ProductCategory.INSURANCE,
    ProductFamily.HEALTH: ProductCategory.INSURANCE,
    ProductFamily.UNIVERSAL_LIFE: ProductCategory.INSURANCE,
    ProductFamily.RECURRING_PAYMENTS: ProductCategory.SERVICE,
    ProductFamily.CASH_MANAGEMENT: ProductCategory.SERVICE,
    ProductFamily.PAYROLL: ProductCategory.SERVICE,
}


class HoldingStatus(models.TextChoices):
    ACTIVE = "active", _("Vigente")
    DORMANT = "dormant", _("Inactiva")
    BLOCKED = "blocked", _("Bloqueada")
    CLOSED = "closed", _("Cancelada")
    WRITTEN_OFF = "written_off", _("Castigada")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Entrante")
    OUTBOUND = "outbound", _("Saliente")


class InteractionType(models.TextChoices):
    CALL = "call", _("Llamada")
    VISIT = "visit", _("Visita")
    MEETING = "meeting", _("Reunión")
    MESSAGE = "message", _("Mensaje")
    EMAIL = "email", _("Correo")
    NOTE = "note", _("Nota")
    REQUEST = "request", _("Solicitud")
    COMPLAINT = "complaint", _("Reclamo")
    COLLECTION = "collection", _("Gestión de cobro")
    CAMPAIGN = "campaign", _("Contacto de campaña")


class InteractionOutcome(models.TextChoices):
    CONTACTED = "contacted", _("Contactado")
    NO_ANSWER = "no_answer", _("No contesta")
    WRONG_NUMBER = "wrong_number", _("Número errado")
    INTERESTED = "interested", _("Interesado")
    NOT_INTERESTED = "not_interested", _("No interesado")
    PROMISE_TO_PAY = "promise_to_pay", _("Promesa de pago")
    RESOLVED = "resolved", _("Resuelto")
    FOLLOW_UP = "follow_up", _("Requiere seguimiento")
    SOLD = "sold", _("Venta")


class RelatedKind(models.TextChoices):
    """What an interaction belongs to (the stage apps own those rows)."""

    CASE = "case", _("Caso")
    OPPORTUNITY = "opportunity", _("Oportunidad")
    CAMPAIGN = "campaign", _("Campaña")
    TASK = "task", _("Tarea")
