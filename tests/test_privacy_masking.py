"""mask_text over generated phone and ID numbers in every written form, what it must leave alone, and
the masking of log records."""
import logging
import random
import re

import pytest

from dossiers.privacy import (MaskingFilter, digits, install_log_masking, mask_number, mask_record, mask_text,
                              mask_value)

SEED, CASES = 20260522, 3000
MOBILE_PREFIXES = ["032", "033", "034", "035", "036", "037", "038", "039", "052", "056", "058", "059", "070", "076",
                   "077", "078", "079", "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "092",
                   "093", "094", "096", "097", "098", "099"]
AREA_CODES = ["024", "028", "0236", "0251", "0203", "0292", "0263", "0225"]
SEPARATORS = [" ", "-", ".", " - ", "  ", ". ", "\u00a0", "\u3000", "\uff0d", "\uff0e", "\n", " – "]
CONTEXTS = ["{}", "Số điện thoại của tôi là {} nhé", "sđt: {}", "SĐT {}, cảm ơn", "CCCD {}.",
            "hồ sơ 000.00.06.H56-231027-0361, liên hệ {} giúp em", "hẹn ngày 02/12/2026, gọi {} ạ",
            "lệ phí 1.500.000 đồng; số {} (gọi sau 17h)", "thửa số 123, tờ bản đồ số 45 — chủ hộ: {}",
            "thủ tục 1.013831: {}", "\"{}\"", "số {}\nxin cảm ơn"]
FULL_WIDTH = str.maketrans("0123456789+()", "０１２３４５６７８９＋（）")


def _groups(rng, text, sizes_choices):
    """``text`` cut into groups of one of the given size patterns (or whole)."""
    fitting = [sizes for sizes in sizes_choices if sum(sizes) == len(text)]
    sizes = rng.choice(fitting) if fitting and rng.random() < 0.8 else [len(text)]
    out, at = [], 0
    for size in sizes:
        out.append(text[at:at + size])
        at += size
    return out


def _join(rng, groups):
    separator = rng.choice(SEPARATORS)
    if rng.random() < 0.2:  # mixed separators
        return groups[0] + "".join(rng.choice(SEPARATORS) + g for g in groups[1:])
    return separator.join(groups)


def generated_number(rng):
    """(how it is written, the digits it masks to: national form for phones)."""
    kind = rng.choice(["mobile", "mobile", "landline", "id12", "id9"])
    if kind == "mobile":
        national = rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(7))
    elif kind == "landline":
        area = rng.choice(AREA_CODES)
        national = area + "".join(rng.choice("0123456789") for _ in range(11 - len(area)))
    elif kind == "id12":
        national = f"0{rng.randint(1, 96):02d}" + "".join(rng.choice("0123456789") for _ in range(9))
    else:
        national = "".join(rng.choice("0123456789") for _ in range(9))
    if kind.startswith("id"):
        written = _join(rng, _groups(rng, national, [[3, 3, 3, 3], [3, 3, 6], [4, 4, 4], [3, 3, 3], [2, 3, 4]]))
    else:
        prefix = rng.choice(["", "", "+84", "+84 ", "84", "(+84) ", "(84) ", "0084 ", "+84 0"])
        rest = national if prefix == "" else national[1:]
        if kind == "landline" and prefix == "" and rng.random() < 0.5:
            area = next(a for a in AREA_CODES if national.startswith(a))
            written = f"({area}) " + _join(rng, _groups(rng, national[len(area):], [[4, 4], [3, 4], [4, 3]]))
        else:
            body = _join(rng, _groups(rng, rest, [[4, 3, 3], [3, 3, 4], [4, 6], [2, 4, 4], [3, 3, 3],
                                                  [2, 3, 4], [2, 4, 4], [3, 4, 4], [4, 4, 3], [4, 2, 2, 2]]))
            gap = "" if prefix.endswith((" ", "0")) or not prefix else rng.choice(["", " "])
            written = prefix + gap + body
    if rng.random() < 0.3:
        written = written.translate(FULL_WIDTH)
    elif rng.random() < 0.1:  # some characters full-width, some not
        written = "".join(c.translate(FULL_WIDTH) if rng.random() < 0.5 else c for c in written)
    return written, national


# Contexts whose words before the number say what it is (then "123.456.789" is masked, else it reads as money).
NUMBER_WORD = re.compile(r"sđt|cccd|liên hệ|số điện thoại|gọi")


def looks_like_money(written):
    """Dots every three digits, not led by 0: 123.456.789 (full-width forms read as ASCII)."""
    ascii_form = written.translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
    return bool(re.fullmatch(r"[1-9][0-9]{0,2}(\.[0-9]{3})+", ascii_form))


def _generated_cases():
    rng = random.Random(SEED)
    return [(rng.choice(CONTEXTS), *generated_number(rng)) for _ in range(CASES)]


def test_generated_numbers_are_masked_to_their_last_digits():
    """Every generated phone / ID number, in every written form and context, leaves exactly its last 4
    digits behind and nothing else of the sentence changes."""
    failures = []
    for context, written, national in _generated_cases():
        text = context.format(written)
        masked = mask_text(text)
        if looks_like_money(written) and not NUMBER_WORD.search(context.split("{}")[0].lower()):
            if masked != text:  # "357.717.916" alone reads as an amount; after "CCCD" as an ID number
                failures.append((text, masked, text))
            continue
        expected = context.format("*" * (len(national) - 4) + national[-4:])
        left = re.sub(r"[^0-9]", "", masked.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        survived = [national[i:i + 9] for i in range(len(national) - 8) if national[i:i + 9] in left]
        if masked != expected or survived:
            failures.append((text, masked, expected))
    assert not failures, f"{len(failures)} of {CASES} not masked right, e.g. {failures[:5]}"


def test_the_generator_covers_every_form():
    """The cases really hold the forms the masking must handle (a generator that drifted would prove little)."""
    written = [w for _, w, _ in _generated_cases()]
    for form in ("(+84)", "(84)", "+84", "0084", "-", ".", "\u00a0", "０", "(0"):
        assert any(form in w for w in written), form
    assert any(re.fullmatch(r"84[0-9]{9}", w) for w in written)
    assert any(re.fullmatch(r"[0-9]{3} [0-9]{3} [0-9]{3} [0-9]{3}", w) for w in written)
    cases = _generated_cases()
    said = [NUMBER_WORD.search(c.split("{}")[0].lower()) is not None for c, _, _ in cases]
    assert sum(looks_like_money(w) and s for (_, w, _), s in zip(cases, said)) >= 10
    assert sum(looks_like_money(w) and not s for (_, w, _), s in zip(cases, said)) >= 5


@pytest.mark.parametrize("text, expected", [
    ("0912-345-678", "******5678"), ("(+84) 912 345 678", "******5678"), ("84912345678", "******5678"),
    ("001 099 012 345", "********2345"), ("001-099-012345", "********2345"), ("０９１２３４５６７８", "******5678"),
    ("(024) 3825 1234", "*******1234"), ("+84 24 3825 1234", "*******1234"), ("0912.345.678", "******5678"),
    ("Số0912345678", "Số******5678"), ("cmnd 123456789", "cmnd *****6789"), ("0084 912 345 678", "******5678"),
    ("0912345678 0987654321", "******5678 ******4321"), ("(0912345678)", "(******5678)"),
    ("０９１２－３４５－６７８", "******5678"), ("＋８４ ９１２ ３４５ ６７８", "******5678"),
    ("CCCD 123.456.789", "CCCD *****6789"), ("Số điện thoại: 912.345.678", "Số điện thoại: *****5678"),
])
def test_forms(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize("text", [
    "000.00.06.H56-231027-0361", "000. 00. 06. h56 - 231027 - 0361", "mã 000.00.06.H56–231027–0361 ạ",
    "02/12/2026", "02-12-2026", "02.12.2026", "2026-12-02 08:30", "từ 01/01/2025 - 31/12/2025",
    "1.500.000 đồng", "150.000.000", "150 000 000 đ", "2.000.000.000 VNĐ", "1.500.000đ", "12 500 000 đồng",
    "1.013831", "thủ tục 1.013831 và 1.012786", "1.013831 - 1.012786 - 2.000123",
    "thửa số 123, tờ bản đồ số 45", "thửa đất số 1234 tờ bản đồ 56", "diện tích 150,5 m2", "mã bưu chính 550000",
    "hotline 1900 1234", "1800 1091", "gọi 113", "2023 và 2024", "id 3f2a1b4c-1234-5678-9012-123456789012",
    "tin 5d41402abc4b2a76b9719d911017c592", "phiên bản 3.6.21", "",
])
def test_left_alone(text):
    assert mask_text(text) == text


def test_generated_negatives_are_left_alone():
    """Dates, amounts, procedure and dossier codes, parcel numbers and short numbers, generated."""
    rng = random.Random(SEED + 1)
    for _ in range(2000):
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2000, 2030)
        amount = f"{rng.randint(1, 999)}" + "".join(f".{rng.randint(0, 999):03d}" for _ in range(rng.randint(1, 3)))
        pieces = [f"{day:02d}/{month:02d}/{year}", f"{day}-{month}-{year}", f"{amount} đồng", amount,
                  f"{rng.randint(1, 2)}.{rng.randint(0, 999999):06d}",
                  f"000.00.{rng.randint(0, 99):02d}.H{rng.randint(10, 99)}-{year % 100:02d}{month:02d}{day:02d}-"
                  f"{rng.randint(0, 9999):04d}",
                  f"thửa số {rng.randint(1, 9999)}, tờ bản đồ số {rng.randint(1, 200)}", str(rng.randint(0, 99999999))]
        text = ", ".join(rng.sample(pieces, rng.randint(1, 4)))
        assert mask_text(text) == text


def test_mask_number_and_digits():
    assert mask_number("0912 345 678") == "******5678"
    assert digits("+84 912 345 678") == "0912345678" and digits("(+84) 912.345.678") == "0912345678"
    assert digits("０９１２３４５６７８") == "0912345678" and digits(None) == ""


def test_mask_value_walks_nested_data_and_integers():
    value = {"a": ["0912-345-678", {"b": 1}], "c": None, "id": 84912345678, "n": 20260522, "f": 0.912345678,
             "t": ("001 099 012 345",), "ok": True}
    assert mask_value(value) == {"a": ["******5678", {"b": 1}], "c": None, "id": "******5678", "n": 20260522,
                                 "f": 0.912345678, "t": ("********2345",), "ok": True}


@pytest.fixture
def captured():
    """Records of a test logger as a handler formats them."""
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    logger = logging.getLogger("tests.privacy.masking")
    handler = Keep()
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, handler, lines
    logger.removeHandler(handler)


def test_installed_masking_covers_message_arguments_and_tracebacks(captured):
    logger, _, lines = captured
    before = logging.getLogRecordFactory()
    try:
        install_log_masking()
        install_log_masking()  # twice: still one wrapper
        assert logging.getLogRecordFactory() is not before
        assert logging.getLogRecordFactory().make is before
        logger.warning("citizen wrote %s (attempt %d)", "sđt 0912-345-678", 3)
        logger.warning("lookup %(who)s", {"who": "(+84) 912 345 678"})
        logger.warning("cccd 001 099 012 345 in the message itself")
        logger.warning("an object: %s", ValueError("bad 0912.345.678"))
        try:
            raise RuntimeError("could not reach 0987 654 321")
        except RuntimeError:
            logger.exception("failed for %s", "web-1")
    finally:
        logging.setLogRecordFactory(before)
    text = "\n".join(lines)
    assert lines[0] == "citizen wrote sđt ******5678 (attempt 3)"
    assert lines[1] == "lookup ******5678" and lines[2] == "cccd ********2345 in the message itself"
    assert lines[3] == "an object: bad ******5678"
    assert "RuntimeError: could not reach ******4321" in text and "Traceback" in text
    assert not re.search(r"0912|345 678|099 012|0987 654", text)


def test_the_filter_masks_records_it_sees(captured):
    logger, handler, lines = captured
    handler.addFilter(MaskingFilter())
    logger.error("sđt %s", "0912 345 678")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "cccd %s", ("001099012345",), None)
    assert mask_record(mask_record(record)).getMessage() == "cccd ********2345"
    assert lines == ["sđt ******5678"]
