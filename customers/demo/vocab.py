"""Vocabularies for demo data: names, surnames, places, companies, occupations, notes.

Weights are rough relative frequencies (higher is more common) so that name-prefix
searches see a realistic skew: many "María ..." and "Juan ...", few "Wilmer ...".
No entry contains a tab, newline or backslash (the COPY writer relies on that).
"""

from __future__ import annotations

# Hand-aligned data tables: keep them compact.
# fmt: off

# (name, weight)
FEMALE_NAMES: tuple[tuple[str, int], ...] = (
    ("María", 60), ("Luz", 14), ("Ana", 22), ("Carmen", 10), ("Diana", 12), ("Sandra", 12), ("Claudia", 11),
    ("Paola", 10), ("Andrea", 14), ("Carolina", 12), ("Natalia", 10), ("Daniela", 12), ("Valentina", 12),
    ("Camila", 12), ("Laura", 13), ("Juliana", 9), ("Alejandra", 10), ("Gloria", 8), ("Martha", 9), ("Patricia", 9),
    ("Adriana", 9), ("Mónica", 8), ("Liliana", 8), ("Yolanda", 6), ("Marcela", 7), ("Ángela", 8), ("Paula", 9),
    ("Sofía", 10), ("Isabella", 8), ("Mariana", 9), ("Gabriela", 9), ("Verónica", 6), ("Lorena", 6), ("Johana", 6),
    ("Tatiana", 6), ("Viviana", 6), ("Yesenia", 4), ("Lucía", 7), ("Rosa", 7), ("Blanca", 5), ("Esperanza", 5),
    ("Beatriz", 5), ("Margarita", 5), ("Elena", 6), ("Fernanda", 8), ("Isabel", 7), ("Cristina", 6), ("Jimena", 4),
    ("Catalina", 7), ("Silvia", 5), ("Nancy", 5), ("Luisa", 7), ("Estefanía", 5), ("Karina", 5), ("Jessica", 5),
    ("Mayra", 4), ("Gissela", 3), ("Maritza", 4), ("Nelly", 3), ("Dolores", 3), ("Mercedes", 4), ("Teresa", 5),
    ("Rocío", 4), ("Fanny", 3), ("Susana", 4), ("Erika", 5), ("Alexandra", 5), ("Katherine", 5), ("Elizabeth", 5),
    ("Jenny", 4), ("Geovanna", 3), ("Samanta", 3), ("Dayana", 4), ("Emilia", 4), ("Antonella", 4), ("Salomé", 4),
)
MALE_NAMES: tuple[tuple[str, int], ...] = (
    ("Juan", 50), ("José", 35), ("Carlos", 28), ("Luis", 26), ("Jorge", 16), ("Andrés", 18), ("Diego", 14),
    ("Jhon", 8), ("Miguel", 14), ("Alejandro", 12), ("Javier", 12), ("Fernando", 11), ("Daniel", 14), ("David", 13),
    ("Santiago", 12), ("Sebastián", 12), ("Felipe", 10), ("Julián", 9), ("Camilo", 9), ("Mauricio", 9),
    ("Ricardo", 9), ("Óscar", 9), ("Edwin", 7), ("Fabio", 6), ("Hernán", 6), ("Álvaro", 7), ("Jaime", 8),
    ("Gustavo", 7), ("Germán", 6), ("Héctor", 6), ("Hugo", 5), ("Iván", 6), ("Manuel", 10), ("Francisco", 9),
    ("Pedro", 9), ("Pablo", 8), ("Rafael", 7), ("Roberto", 7), ("Sergio", 8), ("Víctor", 7), ("William", 6),
    ("Wilson", 5), ("Wilmer", 3), ("Édgar", 5), ("Nelson", 5), ("Rubén", 5), ("Esteban", 7), ("Mateo", 9),
    ("Samuel", 8), ("Nicolás", 9), ("Tomás", 6), ("Martín", 7), ("Gabriel", 7), ("Emilio", 4), ("Ramiro", 4),
    ("Patricio", 5), ("Marco", 6), ("Fausto", 3), ("Byron", 4), ("Xavier", 5), ("Bolívar", 2), ("Galo", 2),
    ("Holger", 2), ("Stalin", 2), ("Kevin", 5), ("Brayan", 4), ("Cristian", 7), ("Freddy", 4), ("Eduardo", 8),
    ("Alberto", 7), ("Antonio", 8), ("Enrique", 5), ("Arturo", 4), ("Gonzalo", 4), ("Leonardo", 6), ("Rodrigo", 6),
)

# Common to both countries; each profile adds its own regional surnames with more weight.
COMMON_SURNAMES: tuple[tuple[str, int], ...] = (
    ("Rodríguez", 30), ("Gómez", 26), ("González", 26), ("Martínez", 24), ("García", 24), ("López", 24),
    ("Hernández", 20), ("Sánchez", 20), ("Ramírez", 18), ("Pérez", 20), ("Díaz", 16), ("Muñoz", 14),
    ("Rojas", 14), ("Moreno", 14), ("Jiménez", 12), ("Vargas", 12), ("Castro", 12), ("Gutiérrez", 11),
    ("Ortiz", 10), ("Álvarez", 11), ("Ruiz", 9), ("Suárez", 9), ("Torres", 11), ("Romero", 9), ("Herrera", 10),
    ("Flores", 8), ("Medina", 8), ("Aguirre", 7), ("Ríos", 7), ("Peña", 6), ("Navarro", 5), ("Mendoza", 8),
    ("Vásquez", 8), ("Castillo", 8), ("Salazar", 8), ("Guerrero", 6), ("Cruz", 6), ("Reyes", 6), ("Morales", 9),
    ("Molina", 6), ("Silva", 7), ("Núñez", 5), ("Ortega", 5), ("Delgado", 5), ("Cabrera", 5), ("Campos", 4),
    ("Vega", 5), ("Carrillo", 4), ("Ramos", 6), ("Fernández", 7), ("Chávez", 6), ("Espinoza", 5), ("León", 5),
)
COLOMBIAN_SURNAMES: tuple[tuple[str, int], ...] = (
    ("Restrepo", 10), ("Valencia", 9), ("Quintero", 8), ("Cárdenas", 8), ("Mejía", 9), ("Osorio", 9),
    ("Giraldo", 9), ("Zapata", 8), ("Ospina", 8), ("Arango", 7), ("Londoño", 7), ("Castaño", 6), ("Montoya", 7),
    ("Betancur", 5), ("Agudelo", 6), ("Henao", 6), ("Cardona", 8), ("Marín", 7), ("Gallego", 6), ("Parra", 7),
    ("Patiño", 5), ("Rincón", 5), ("Camacho", 5), ("Beltrán", 5), ("Duarte", 4), ("Barrera", 5), ("Acosta", 6),
    ("Cortés", 5), ("Rueda", 4), ("Pardo", 4), ("Pinzón", 4), ("Velásquez", 5), ("Correa", 5), ("Escobar", 5),
    ("Uribe", 5), ("Bermúdez", 4), ("Sierra", 4), ("Arias", 6), ("Bedoya", 4), ("Vélez", 5), ("Cano", 4),
    ("Franco", 4), ("Hoyos", 3), ("Jaramillo", 6), ("Serna", 3), ("Toro", 3), ("Bustamante", 3), ("Mosquera", 4),
    ("Palacios", 4), ("Caicedo", 4), ("Murillo", 4), ("Orozco", 4), ("Buitrago", 3), ("Forero", 3), ("Niño", 3),
)
ECUADORIAN_SURNAMES: tuple[tuple[str, int], ...] = (
    ("Zambrano", 12), ("Cedeño", 9), ("Vera", 8), ("Macías", 8), ("Alcívar", 5), ("Bravo", 7), ("Andrade", 9),
    ("Moreira", 6), ("Intriago", 5), ("Loor", 5), ("Cevallos", 6), ("Villacís", 4), ("Pazmiño", 4), ("Quishpe", 5),
    ("Guamán", 5), ("Tapia", 5), ("Jaramillo", 5), ("Ordóñez", 5), ("Mora", 7), ("Paredes", 6), ("Yépez", 4),
    ("Salinas", 4), ("Sarmiento", 4), ("Benítez", 4), ("Carvajal", 4), ("Naranjo", 4), ("Acosta", 4),
    ("Villavicencio", 3), ("Calderón", 4), ("Chiriboga", 3), ("Espinosa", 5), ("Proaño", 3), ("Granda", 3),
    ("Toapanta", 4), ("Chicaiza", 3), ("Caiza", 3), ("Pilataxi", 2), ("Maldonado", 5), ("Valarezo", 3),
    ("Sornoza", 2), ("Mero", 3), ("Ponce", 4), ("Arévalo", 3), ("Cárdenas", 3), ("Montalvo", 3), ("Velasco", 4),
)

# Free-mail style domains under names reserved for documentation (RFC 2606), so that a
# demo wired to a real mail server can never write to a stranger.
PERSON_EMAIL_DOMAINS: tuple[tuple[str, int], ...] = (
    ("correo.example.com", 40), ("mail.example.net", 25), ("example.org", 15), ("webmail.example", 10),
)

STREET_KINDS_CO: tuple[str, ...] = ("Calle", "Carrera", "Avenida", "Transversal", "Diagonal")
STREET_NAMES_EC: tuple[str, ...] = (
    "Av. Amazonas", "Av. 10 de Agosto", "Av. 9 de Octubre", "Av. de las Américas", "Av. Solano", "Calle Bolívar",
    "Calle Sucre", "Av. Universitaria", "Av. Quito", "Calle Rocafuerte", "Av. Francisco de Orellana",
    "Calle García Moreno", "Av. Eloy Alfaro", "Calle Olmedo", "Av. Remigio Crespo", "Av. 6 de Diciembre",
)
CROSS_STREETS_EC: tuple[str, ...] = (
    "Naciones Unidas", "Colón", "Patria", "Boyacá", "Malecón", "Chile", "Juan Montalvo", "Tarqui", "Mejía", "Vargas",
)

# Company names: (prefix, economic sector, weight). The sector follows from the trade.
COMPANY_TRADES: tuple[tuple[str, str, int], ...] = (
    ("Distribuidora", "commerce", 10), ("Comercializadora", "commerce", 10), ("Almacenes", "commerce", 5),
    ("Ferretería", "commerce", 4), ("Inversiones", "finance", 6), ("Construcciones", "construction", 7),
    ("Constructora", "construction", 5), ("Transportes", "transport", 6), ("Logística", "transport", 4),
    ("Industrias", "manufacturing", 6), ("Confecciones", "manufacturing", 4), ("Alimentos", "manufacturing", 5),
    ("Agroindustrial", "agriculture", 4), ("Hacienda", "agriculture", 3), ("Flores", "agriculture", 2),
    ("Camaronera", "agriculture", 2), ("Tecnologías", "technology", 4), ("Soluciones Digitales", "technology", 3),
    ("Clínica", "health", 3), ("Laboratorios", "health", 3), ("Colegio", "education", 2),
    ("Instituto", "education", 2), ("Hotel", "hospitality", 3), ("Restaurante", "hospitality", 3),
    ("Minera", "mining", 1), ("Energías", "mining", 2), ("Servicios Integrales", "services", 5),
    ("Consultores", "services", 4), ("Seguridad", "services", 2),
)
COMPANY_CORES: tuple[str, ...] = (
    "Andina", "del Valle", "La Esperanza", "Santa Fe", "El Dorado", "del Caribe", "La Montaña", "San José",
    "Los Andes", "del Pacífico", "La Sabana", "Altiplano", "Bolívar", "Santa Lucía", "El Roble", "La Cumbre",
    "Sol y Mar", "Horizonte", "Nueva Granada", "Tricolor", "Cóndor", "Guadalupe", "Los Ángeles", "Mirador",
    "Amazonía", "El Progreso", "Monserrate", "Chimborazo", "Galápagos", "Tequendama", "San Andrés", "Magdalena",
    "Cotopaxi", "La Pradera", "Occidente", "Oriente", "Continental", "Integral", "Premier", "Génesis",
)
LEGAL_FORMS_CO: tuple[tuple[str, int], ...] = (("S.A.S.", 70), ("S.A.", 15), ("Ltda.", 12), ("S. en C.", 3))
LEGAL_FORMS_EC: tuple[tuple[str, int], ...] = (("S.A.", 55), ("Cía. Ltda.", 40), ("S.A.S.", 5))

# (male form, female form, education floor). Education floor: 0 any, 1 technical, 2 university.
# Students and pensioners are assigned by age in the generator, not drawn from here.
OCCUPATIONS: tuple[tuple[str, str, int], ...] = (
    ("Comerciante", "Comerciante", 0), ("Conductor", "Conductora", 0), ("Independiente", "Independiente", 0),
    ("Operario", "Operaria", 0), ("Agricultor", "Agricultora", 0), ("Vendedor", "Vendedora", 0),
    ("Independiente", "Ama de casa", 0), ("Artesano", "Artesana", 0),
    ("Auxiliar administrativo", "Auxiliar administrativa", 1), ("Técnico electricista", "Técnica electricista", 1),
    ("Auxiliar de enfermería", "Auxiliar de enfermería", 1), ("Chef", "Chef", 1), ("Mecánico", "Mecánica", 1),
    ("Tecnólogo en sistemas", "Tecnóloga en sistemas", 1), ("Docente", "Docente", 2),
    ("Ingeniero de sistemas", "Ingeniera de sistemas", 2), ("Ingeniero civil", "Ingeniera civil", 2),
    ("Contador", "Contadora", 2), ("Abogado", "Abogada", 2), ("Médico", "Médica", 2),
    ("Administrador de empresas", "Administradora de empresas", 2), ("Arquitecto", "Arquitecta", 2),
    ("Enfermero", "Enfermera", 2), ("Empleado público", "Empleada pública", 1), ("Odontólogo", "Odontóloga", 2),
    ("Economista", "Economista", 2), ("Psicólogo", "Psicóloga", 2),
)

# Timeline notes by interaction type (Spanish: they are what the advisor typed).
INTERACTION_NOTES: dict[str, tuple[str, ...]] = {
    "call": (
        "Llamada de seguimiento; el cliente confirma sus datos de contacto.",
        "Se ofrece aumento de cupo de la tarjeta; pide que lo llamen la próxima semana.",
        "Consulta por el estado de su crédito; se le explica el plan de pagos.",
        "Cliente solicita información sobre tasas de CDT a 180 días.",
    ),
    "visit": (
        "Visita en la oficina del cliente para revisar necesidades de financiación.",
        "Visita comercial: se presenta el portafolio de cash management.",
    ),
    "meeting": (
        "Reunión en la agencia para firma de documentos.",
        "Reunión de revisión anual de productos y condiciones.",
    ),
    "message": (
        "Mensaje de WhatsApp con el recordatorio de la cita.",
        "Se envía por WhatsApp el extracto solicitado.",
    ),
    "email": (
        "Correo con la propuesta de crédito y las condiciones.",
        "Se envía certificado bancario solicitado por el cliente.",
    ),
    "note": (
        "Cliente prefiere ser contactado en la tarde.",
        "Actualizó ingresos en la agencia; pendiente soporte laboral.",
    ),
    "request": (
        "Solicitud de certificado tributario.",
        "Solicitud de cambio de dirección de correspondencia.",
        "Solicitud de reexpedición de tarjeta débito.",
    ),
    "complaint": (
        "Reclamo por cobro de cuota de manejo no reconocida.",
        "Queja por demora en la atención en la agencia.",
    ),
    "collection": (
        "Gestión de cobro: cliente reconoce la deuda y se compromete a pagar.",
        "Gestión de cobro: no contesta; se deja mensaje de voz.",
        "Gestión de cobro: informa pérdida de empleo, solicita acuerdo de pago.",
    ),
    "campaign": (
        "Contacto de campaña de venta cruzada de seguro de vida.",
        "Contacto de campaña de renovación de CDT.",
    ),
}

# fmt: on


def check_vocabulary() -> None:
    """Fail fast if an entry would break the COPY text format (tab, newline, backslash)."""
    groups: list = [
        FEMALE_NAMES,
        MALE_NAMES,
        COMMON_SURNAMES,
        COLOMBIAN_SURNAMES,
        ECUADORIAN_SURNAMES,
        PERSON_EMAIL_DOMAINS,
        STREET_KINDS_CO,
        STREET_NAMES_EC,
        CROSS_STREETS_EC,
        COMPANY_TRADES,
        COMPANY_CORES,
        LEGAL_FORMS_CO,
        LEGAL_FORMS_EC,
        OCCUPATIONS,
        *INTERACTION_NOTES.values(),
    ]
    for group in groups:
        for entry in group:
            for text in entry if isinstance(entry, tuple) else (entry,):
                if isinstance(text, str) and any(ch in text for ch in "\t\n\r\\"):
                    raise ValueError(f"Vocabulary entry {text!r} contains a COPY special character")


check_vocabulary()
