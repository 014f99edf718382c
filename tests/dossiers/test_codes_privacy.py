"""Dossier codes as citizens type them, and masking of personal numbers."""
import pytest

from core.privacy import Hasher, mask_name, mask_number, mask_text
from core.vocabulary import status_name
from dossiers.codes import check_code, find_code, looks_like_code


@pytest.mark.parametrize("typed", ["000.00.06.H56-231027-0361", "000.00.06.h56-231027-0361",
                                   " 000.00.06.H56 - 231027 - 0361 ", "000.00.06.H56–231027–0361",
                                   "000. 00. 06. H56-231027-0361"])
def test_codes_typed_loosely(typed):
    assert check_code(typed).code == "000.00.06.H56-231027-0361"


@pytest.mark.parametrize("typed, problem", [
    ("", "chưa nhập"), ("000.00.06.H56-231027", "3 phần"), ("00.06.H56-231027-0361", "mã cơ quan"),
    ("000.00.06.H56-2310-0361", "6 chữ số"), ("000.00.06.H56-231027-361", "4 chữ số"),
    ("000.00.06.H56-231399-0361", "không phải ngày"),
])
def test_bad_codes_are_explained(typed, problem):
    check = check_code(typed)
    assert not check.ok and problem in check.problem


def test_find_code_in_a_sentence():
    assert find_code("tra cuu ho so 000.00.06.h56 - 231027 - 0361 giup em") == "000.00.06.H56-231027-0361"
    assert find_code("ho so cua toi den dau roi") is None
    assert looks_like_code("000.00.06-231027") and not looks_like_code("xin chào")


def test_status_names():
    assert status_name(1) == "Mới đăng ký" and status_name(10) == "Đã trả kết quả"
    with pytest.raises(ValueError):
        status_name(11)


def test_masking():
    assert mask_number("0912 345 678") == "******5678"
    assert mask_text("sdt 0912345678, cccd 079203004567, mã 000.00.06.H56-231027-0361") == \
        "sdt ******5678, cccd ********4567, mã 000.00.06.H56-231027-0361"
    assert mask_text("+84 912 345 678") == "******5678"
    assert mask_text("sdt 0912\u200b345\u2011678, mã 000.00.06.H56\u2013231027\u20130361") == \
        "sdt ******5678, mã 000.00.06.H56\u2013231027\u20130361"
    assert mask_text("số của tôi là 912.345.678, lệ phí 912.345.678 đồng") == \
        "số của tôi là *****5678, lệ phí 912.345.678 đồng"
    assert mask_text("٠٩١٢*٣٤٥*٦٧٨ hoặc 0912 345 6 78") == "******5678 hoặc ******5678"
    assert mask_name("Nguyễn Văn An") == "Nguyễn V. A."


def test_hashes_are_keyed_and_salted():
    a, b = Hasher(b"k" * 32), Hasher(b"j" * 32)
    assert a.hash("s1", "5678") != a.hash("s2", "5678") != b.hash("s1", "5678")
    full, last = a.number_hashes("s", "0912345678")
    assert a.matches_last("s", last, "5678") and a.matches_last("s", last, "0912.345.678")
    assert not a.matches_last("s", last, "678") and not a.matches_last("s", None, "5678")


def test_key_file_is_created_private(tmp_path):
    path = tmp_path / "secrets/key"
    first = Hasher.from_settings(None, path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert Hasher.from_settings(None, path).key == first.key
    assert Hasher.from_settings("x" * 20, path).key == b"x" * 20
