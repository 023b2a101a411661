"""The institutions that ``seed_demo`` creates: two demo ones and numbered bench tenants.

A profile is plain data: country settings, branches in real cities, supervisor teams,
the product catalogue (with rates, sizes and terms typical of the market) and the
vocabulary mix used for its customers. Amounts are in US dollars and scaled by
``usd_rate`` into the institution's currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from customers.choices import ProductFamily as F
from customers.demo import vocab


@dataclass(frozen=True)
class BranchSpec:
    code: str
    name: str
    city: str
    region: str
    address: str
    weight: int  # share of the customer book
    province: int = 0  # Ecuadorian province code (cédulas and RUCs start with it)


@dataclass(frozen=True)
class TeamSpec:
    name: str
    branch: str  # branch code
    advisors: int


@dataclass(frozen=True)
class ProductSpec:
    """One catalogue entry and how holdings of it look.

    ``usd_median``/``sigma``: log-normal size of the balance (deposits, outstanding debt)
    or, for cards and overdrafts, of the credit limit; insurance uses it for the monthly
    premium and services for the monthly fee. ``term_months``: (min, max), 0 when the
    product has no maturity.
    """

    code: str
    name: str
    family: str
    person_weight: float
    company_weight: float
    usd_median: float
    sigma: float
    rate: tuple[float, float] = (0.0, 0.0)
    term_months: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class InstitutionProfile:
    key: str  # username prefix
    name: str
    slug: str
    country: str
    currency: str
    timezone: str
    locale: str
    holiday_country: str
    usd_rate: float  # currency units per US dollar
    cents: bool  # whether amounts carry cents (USD) or are rounded to whole hundreds (COP)
    dialing_code: str
    mobile_prefixes: tuple[str, ...]
    mobile_digits: int
    surnames: tuple[tuple[str, int], ...]
    legal_forms: tuple[tuple[str, int], ...]
    company_share: float
    branches: tuple[BranchSpec, ...]
    teams: tuple[TeamSpec, ...]
    products: tuple[ProductSpec, ...]
    account_prefix: str
    settings: dict = field(default_factory=dict)

    @property
    def is_ecuador(self) -> bool:
        return self.country == "EC"


# fmt: off
# Prefixes whose whole 7-digit range is valid for libphonenumber (the tests check a sample).
_CO_MOBILE = tuple(str(p) for p in (300, 301, 302, 304, 305, 310, 311, 312, 313, 314, 315, 316, 317, 318, 319,
                                    320, 321, 322, 323, 350, 351))
_EC_MOBILE = tuple(str(p) for p in (*range(980, 1000), 960, 961, 962, 963, 967, 968, 969, 939))

BANCO_ANDINO = InstitutionProfile(
    key="andino",
    name="Banco Andino",
    slug="banco-andino",
    country="CO",
    currency="COP",
    timezone="America/Bogota",
    locale="es-CO",
    holiday_country="CO",
    usd_rate=4_000.0,
    cents=False,
    dialing_code="57",
    mobile_prefixes=_CO_MOBILE,
    mobile_digits=7,
    surnames=vocab.COMMON_SURNAMES + vocab.COLOMBIAN_SURNAMES,
    legal_forms=vocab.LEGAL_FORMS_CO,
    company_share=0.12,
    account_prefix="AND",
    branches=(
        BranchSpec("BOG-CHA", "Bogotá Chapinero", "Bogotá", "Cundinamarca", "Carrera 13 # 63-39", 24),
        BranchSpec("BOG-CIN", "Bogotá Centro Internacional", "Bogotá", "Cundinamarca", "Carrera 7 # 26-20", 14),
        BranchSpec("BOG-USA", "Bogotá Usaquén", "Bogotá", "Cundinamarca", "Calle 119 # 6-24", 6),
        BranchSpec("MED-POB", "Medellín El Poblado", "Medellín", "Antioquia", "Carrera 43A # 1-50", 19),
        BranchSpec("CAL-GRA", "Cali Granada", "Cali", "Valle del Cauca", "Avenida 8 Norte # 10-65", 14),
        BranchSpec("BAQ-NTE", "Barranquilla Norte", "Barranquilla", "Atlántico", "Carrera 53 # 82-86", 7),
        BranchSpec("BGA-CAB", "Bucaramanga Cabecera", "Bucaramanga", "Santander", "Carrera 35 # 48-20", 6),
        BranchSpec("CTG-BOC", "Cartagena Bocagrande", "Cartagena", "Bolívar", "Avenida San Martín # 8-50", 5),
        BranchSpec("PEI-CEN", "Pereira Centro", "Pereira", "Risaralda", "Carrera 8 # 20-45", 5),
    ),
    teams=(
        TeamSpec("Personas Bogotá", "BOG-CHA", 3),
        TeamSpec("Empresas Bogotá", "BOG-CIN", 2),
        TeamSpec("Personas Medellín", "MED-POB", 2),
        TeamSpec("Personas Cali", "CAL-GRA", 2),
    ),
    products=(
        ProductSpec("AHO-CLASICA", "Cuenta de Ahorros Clásica", F.SAVINGS, 40, 4, 700, 1.3, (0.1, 1.5)),
        ProductSpec("AHO-NOMINA", "Cuenta de Ahorros Nómina", F.SAVINGS, 25, 0, 450, 1.0, (0.1, 1.0)),
        ProductSpec("CTE-PN", "Cuenta Corriente Personas", F.CHECKING, 5, 0, 1_500, 1.2),
        ProductSpec("CTE-EMP", "Cuenta Corriente Empresarial", F.CHECKING, 0, 40, 18_000, 1.4),
        ProductSpec("CDT-90", "CDT 90 días", F.TERM_DEPOSIT, 5, 4, 6_000, 1.0, (8.5, 10.0), (3, 3)),
        ProductSpec("CDT-360", "CDT 360 días", F.TERM_DEPOSIT, 6, 6, 9_000, 1.1, (9.0, 11.0), (12, 12)),
        ProductSpec("FIC-VISTA", "Fondo de Inversión Colectiva Andino Vista", F.INVESTMENT, 4, 6, 12_000, 1.2,
                    (5.0, 9.0)),
        ProductSpec("TC-CLASICA", "Tarjeta de Crédito Clásica", F.CREDIT_CARD, 22, 0, 1_200, 0.6, (28.0, 33.5)),
        ProductSpec("TC-ORO", "Tarjeta de Crédito Oro", F.CREDIT_CARD, 8, 0, 4_000, 0.6, (26.0, 32.0)),
        ProductSpec("TC-EMP", "Tarjeta de Crédito Empresarial", F.CREDIT_CARD, 0, 15, 10_000, 0.7, (24.0, 30.0)),
        ProductSpec("LIB-INV", "Crédito de Libre Inversión", F.LOAN, 14, 0, 6_000, 0.8, (16.0, 26.0), (12, 72)),
        ProductSpec("CRE-VEH", "Crédito de Vehículo", F.LOAN, 4, 3, 14_000, 0.5, (14.0, 20.0), (36, 72)),
        ProductSpec("HIP-VIS", "Crédito Hipotecario VIS", F.MORTGAGE, 3, 0, 28_000, 0.4, (10.0, 13.0), (180, 240)),
        ProductSpec("HIP-NOVIS", "Crédito Hipotecario No VIS", F.MORTGAGE, 3, 0, 65_000, 0.5, (11.0, 14.0),
                    (120, 240)),
        ProductSpec("MIC-EMPRENDE", "Microcrédito Emprende", F.MICROCREDIT, 4, 6, 2_500, 0.7, (35.0, 50.0), (12, 36)),
        ProductSpec("COM-CAPITAL", "Crédito Comercial Capital de Trabajo", F.COMMERCIAL_LOAN, 0, 25, 60_000, 1.0,
                    (14.0, 20.0), (12, 60)),
        ProductSpec("SOB-PN", "Sobregiro Personas", F.OVERDRAFT, 2, 0, 800, 0.5, (30.0, 33.5)),
        ProductSpec("ROT-EMP", "Cupo Rotativo Empresarial", F.OVERDRAFT, 0, 12, 25_000, 0.8, (24.0, 30.0)),
        ProductSpec("SEG-DEUDOR", "Seguro de Vida Deudores", F.LIFE, 8, 2, 6, 0.4),
        ProductSpec("SEG-AUTO", "Seguro de Vehículo Todo Riesgo", F.VEHICLE, 3, 3, 60, 0.4),
        ProductSpec("SEG-SALUD", "Plan Complementario de Salud", F.HEALTH, 4, 2, 45, 0.3),
        ProductSpec("VIDA-UNIV", "Vida Universal Andino", F.UNIVERSAL_LIFE, 1.5, 0, 90, 0.5),
        ProductSpec("PAG-AUTO", "Débito Automático de Servicios", F.RECURRING_PAYMENTS, 10, 6, 2, 0.3),
        ProductSpec("CASH-EMP", "Portal Empresarial Cash Management", F.CASH_MANAGEMENT, 0, 15, 40, 0.5),
        ProductSpec("NOM-EMP", "Pago de Nómina Empresarial", F.PAYROLL, 0, 18, 25, 0.5),
    ),
)

COOPERATIVA_DEL_PACIFICO = InstitutionProfile(
    key="pacifico",
    name="Cooperativa del Pacífico",
    slug="coop-pacifico",
    country="EC",
    currency="USD",
    timezone="America/Guayaquil",
    locale="es-EC",
    holiday_country="EC",
    usd_rate=1.0,
    cents=True,
    dialing_code="593",
    mobile_prefixes=_EC_MOBILE,
    mobile_digits=6,
    surnames=vocab.COMMON_SURNAMES + vocab.ECUADORIAN_SURNAMES,
    legal_forms=vocab.LEGAL_FORMS_EC,
    company_share=0.06,
    account_prefix="PAC",
    branches=(
        BranchSpec("GYE-MAT", "Guayaquil Matriz", "Guayaquil", "Guayas", "Av. 9 de Octubre 424 y Chile", 28, 9),
        BranchSpec("GYE-ALB", "Guayaquil Alborada", "Guayaquil", "Guayas", "Av. Rodolfo Baquerizo Nazur, Mz. 4", 8, 9),
        BranchSpec("UIO-AMA", "Quito Amazonas", "Quito", "Pichincha", "Av. Amazonas N34-120 y Juan Pablo Sanz", 18,
                   17),
        BranchSpec("CUE-CEN", "Cuenca Centro", "Cuenca", "Azuay", "Calle Bolívar 7-55 y Luis Cordero", 9, 1),
        BranchSpec("MEC-MAL", "Manta Malecón", "Manta", "Manabí", "Av. Malecón y Calle 20", 16, 13),
        BranchSpec("POR-CEN", "Portoviejo Centro", "Portoviejo", "Manabí", "Calle Olmedo y Av. Pedro Gual", 7, 13),
        BranchSpec("MCH-CEN", "Machala Centro", "Machala", "El Oro", "Av. 25 de Junio y Guayas", 7, 7),
        BranchSpec("AMB-CEN", "Ambato Centro", "Ambato", "Tungurahua", "Calle Sucre y Castillo", 7, 18),
    ),
    teams=(
        TeamSpec("Socios Guayaquil", "GYE-MAT", 3),
        TeamSpec("Socios Quito", "UIO-AMA", 2),
        TeamSpec("Microcrédito Manabí", "MEC-MAL", 2),
    ),
    products=(
        ProductSpec("AHO-SOCIO", "Cuenta de Ahorro Socio", F.SAVINGS, 60, 20, 600, 1.3, (1.0, 3.0)),
        ProductSpec("AHO-FUTURO", "Ahorro Programado Mi Futuro", F.SAVINGS, 10, 0, 900, 0.9, (3.0, 5.0), (12, 36)),
        ProductSpec("DPF-180", "Depósito a Plazo Fijo 180 días", F.TERM_DEPOSIT, 7, 8, 5_000, 1.0, (6.0, 7.5), (6, 6)),
        ProductSpec("DPF-361", "Depósito a Plazo Fijo 361 días", F.TERM_DEPOSIT, 6, 8, 8_000, 1.0, (7.0, 8.75),
                    (12, 12)),
        ProductSpec("CRE-CONSUMO", "Crédito de Consumo", F.LOAN, 20, 0, 5_000, 0.7, (15.0, 16.77), (12, 60)),
        ProductSpec("CRE-VIVIENDA", "Crédito de Vivienda", F.MORTGAGE, 4, 0, 45_000, 0.5, (9.0, 10.9), (120, 240)),
        ProductSpec("MIC-MINORISTA", "Microcrédito Minorista", F.MICROCREDIT, 14, 10, 1_800, 0.6, (20.0, 28.5),
                    (6, 36)),
        ProductSpec("MIC-ACUMULA", "Microcrédito de Acumulación Ampliada", F.MICROCREDIT, 4, 12, 12_000, 0.6,
                    (20.0, 25.5), (12, 48)),
        ProductSpec("CRE-PYME", "Crédito Productivo PYMES", F.COMMERCIAL_LOAN, 0, 25, 40_000, 0.8, (10.0, 11.8),
                    (12, 60)),
        ProductSpec("TC-PACIFICO", "Tarjeta de Crédito Pacífico Visa", F.CREDIT_CARD, 10, 4, 1_500, 0.7, (15.0, 16.5)),
        ProductSpec("SEG-DESGRAV", "Seguro de Desgravamen", F.LIFE, 12, 3, 4, 0.4),
        ProductSpec("SEG-SALUD", "Seguro de Salud Familiar", F.HEALTH, 5, 2, 30, 0.3),
        ProductSpec("PAG-SERVICIOS", "Pago de Servicios Básicos", F.RECURRING_PAYMENTS, 8, 4, 1, 0.3),
        ProductSpec("NOM-SOCIOS", "Acreditación de Nómina", F.PAYROLL, 0, 20, 15, 0.5),
    ),
)
# fmt: on

DEMO_INSTITUTIONS = (BANCO_ANDINO, COOPERATIVA_DEL_PACIFICO)


def bench_profile(number: int) -> InstitutionProfile:
    """Bench tenant ``number`` (1-based): alternately a Colombian bank and an Ecuadorian
    credit union, so both document types and currencies are exercised at scale."""
    base = BANCO_ANDINO if number % 2 else COOPERATIVA_DEL_PACIFICO
    return replace(
        base,
        key=f"bench{number:02d}",
        name=f"Bench {number:02d}",
        slug=f"bench-{number:02d}",
        account_prefix=f"B{number:02d}",
    )
