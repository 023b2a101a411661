"""The public data sets in ../shared/data through the import path users get (the
"portfolio" importable with its presets). Expected figures are computed here from the
files themselves with the csv module, independently of the importer."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from customers import identification
from customers.models import Customer, Holding, Payment, Product
from tests.imports.conftest import DATA, Importer
from vector_crm.models import ImportStatus
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

BANK = DATA / "bank_marketing" / "bank.csv"
TAIWAN = DATA / "credit_default_taiwan" / "train.csv"


def read_rows(path, delimiter):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def import_file(org, path, preset, *, dry_run=True):
    importer = Importer(org)
    file_import = importer.upload(path.name, path.read_bytes(), importable="portfolio", preset=preset)
    importer.map(file_import)
    if dry_run:
        checked = importer.dry_run(file_import)
        assert (checked.status, checked.issue_count) == (ImportStatus.VALIDATED, 0)
    return importer.run(file_import)


def test_bank_marketing_imports_one_customer_with_a_savings_account_per_row(org_a):
    rows = read_rows(BANK, ";")
    total_balance = sum(Decimal(r["balance"]) for r in rows)
    done = import_file(org_a, BANK, "bank_marketing")
    assert (done.status, done.total_rows, done.issue_count) == (ImportStatus.DONE, len(rows), 0)
    assert done.counts["customers"]["created"] == len(rows)
    assert done.counts["holdings"]["created"] == len(rows)
    with tenant_context(org_a.tenant.pk):
        product = Product.objects.get(code="BM-AHORRO")
        assert (product.family, product.currency) == ("savings", "EUR")
        assert Customer.objects.filter(external_id__startswith="BM-").count() == len(rows)
        holdings = Holding.objects.filter(product=product)
        assert holdings.count() == len(rows)
        assert holdings.aggregate(total=Sum("balance"))["total"] == total_balance
        # the 10th data row: derived ids, its own balance
        tenth = Customer.objects.get(external_id="BM-000010")
        assert (tenth.identification_type, tenth.identification_number) == ("cc", "1100000010")
        assert (tenth.first_name, tenth.last_name) == ("Cliente", "BM-000010")
        account = Holding.objects.get(account_number="BM-AH-000010")
        assert (account.customer_id, account.balance) == (tenth.pk, Decimal(rows[9]["balance"]))


def test_bank_marketing_in_an_ecuadorian_tenant_gets_valid_cedulas(org_b):
    rows = read_rows(BANK, ";")
    done = import_file(org_b, BANK, "bank_marketing", dry_run=False)
    assert done.counts["customers"]["created"] == len(rows)
    with tenant_context(org_b.tenant.pk):
        numbers = list(
            Customer.objects.filter(identification_type="ci_ec").values_list("identification_number", flat=True)
        )
    assert len(numbers) == len(set(numbers)) == len(rows)
    assert all(identification.ec_cedula_valid(n) for n in numbers)


def test_taiwan_credit_cards_import_with_six_months_of_payments(org_a):
    rows = read_rows(TAIWAN, ",")
    bills = [max(Decimal(r[f"BILL_AMT{k}"]), 0) for r in rows for k in range(1, 7)]
    paid = [Decimal(r[f"PAY_AMT{k}"]) for r in rows for k in range(1, 7)]
    delinquent = sum(1 for r in rows if int(r["PAY_0"]) > 0)
    done = import_file(org_a, TAIWAN, "credit_default_taiwan", dry_run=False)
    assert (done.status, done.total_rows, done.issue_count) == (ImportStatus.DONE, len(rows), 0)
    assert done.counts == {
        "customers": {"created": len({r["ID"] for r in rows}), "updated": 0, "unchanged": 0},
        "holdings": {"created": len(rows), "updated": 0, "unchanged": 0},
        "payments": {"created": 6 * len(rows), "updated": 0, "unchanged": 0},
    }
    with tenant_context(org_a.tenant.pk):
        payments = Payment.objects.filter(holding__product__code="TW-TC")
        totals = payments.aggregate(due=Sum("amount_due"), paid=Sum("amount_paid"), n=Count("id"))
        assert totals == {"due": sum(bills), "paid": sum(paid), "n": 6 * len(rows)}
        assert payments.filter(paid_on__isnull=False).count() == sum(1 for p in paid if p > 0)
        assert Holding.objects.filter(product__code="TW-TC", days_past_due__gt=0).count() == delinquent
        first = rows[0]
        card = Holding.objects.select_related("customer").get(account_number=f"TW-TC-{int(first['ID']):06d}")
        assert (card.credit_limit, card.balance, card.currency) == (
            Decimal(first["LIMIT_BAL"]),
            Decimal(first["BILL_AMT1"]),
            "TWD",
        )
        assert card.days_past_due == max(int(first["PAY_0"]), 0) * 30
        assert card.customer.identification_number == str(1_200_000_000 + int(first["ID"]))
