"""mask_text over generated phone and ID numbers in every written form, what it must leave alone, and
the masking of log records."""
import logging
import random
import re
import unicodedata

import pytest

from core.privacy import (
    MaskingFilter,
    digits,
    install_log_masking,
    mask_int,
    mask_number,
    mask_record,
    mask_text,
    mask_value,
)

SEED, CASES = 20260522, 3000
MOBILE_PREFIXES = ["032", "033", "034", "035", "036", "037", "038", "039", "052", "056", "058", "059", "070", "076",
                   "077", "078", "079", "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "092",
                   "093", "094", "096", "097", "098", "099"]
AREA_CODES = ["024", "028", "0236", "0251", "0203", "0292", "0263", "0225"]
SEPARATORS = [" ", "-", ".", " - ", "  ", ". ", "\u00a0", "\u3000", "\uff0d", "\uff0e", "\n", " – ", ",", "/", "_",
              "\uff0c"]
# Separators an outside tester found stored unmasked: '*', middle dot, '--', tabs, Unicode hyphens, dashes
# and minus, and invisible characters (soft hyphen, zero-width space / joiners, word joiner, BOM).
ODD_SEPARATORS = ["*", "\u00b7", "--", "\t", " \t", "\t-\t", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014",
                  " \u2014 ", "\u2212", "\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", " -- ", "\u00b7 "]
CONTEXTS = ["{}", "Số điện thoại của tôi là {} nhé", "sđt: {}", "SĐT {}, cảm ơn", "CCCD {}.",
            "hồ sơ 000.00.06.H56-231027-0361, liên hệ {} giúp em", "hẹn ngày 02/12/2026, gọi {} ạ",
            "lệ phí 1.500.000 đồng; số {} (gọi sau 17h)", "thửa số 123, tờ bản đồ số 45 — chủ hộ: {}",
            "thủ tục 1.013831: {}", "\"{}\"", "số {}\nxin cảm ơn", "số của tôi là {}",
            "căn cước công dân của tôi là {} ạ", "số tiền 1.500.000 đồng, sdt\u200b{}"]
FULL_WIDTH = str.maketrans("0123456789+()", "０１２３４５６７８９＋（）")
# Digits of other scripts: Arabic-Indic, Extended Arabic-Indic, mathematical bold and monospace, Devanagari, Thai.
OTHER_DIGITS = [str.maketrans("0123456789", zero_to_nine) for zero_to_nine in (
    "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", "𝟶𝟷𝟸𝟹𝟺𝟻𝟼𝟽𝟾𝟿", "०१२३४५६७८९", "๐๑๒๓๔๕๖๗๘๙")]


def ascii_digits(text):
    """``text`` with the digits of every script (full-width too) as ASCII."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def _groups(rng, text, sizes_choices):
    """``text`` cut into groups of one of the given size patterns (or whole)."""
    fitting = [sizes for sizes in sizes_choices if sum(sizes) == len(text)]
    sizes = rng.choice(fitting) if fitting and rng.random() < 0.8 else [len(text)]
    out, at = [], 0
    for size in sizes:
        out.append(text[at:at + size])
        at += size
    return out


def _separator(rng):
    return rng.choice(ODD_SEPARATORS if rng.random() < 0.3 else SEPARATORS)


def _join(rng, groups):
    separator = _separator(rng)
    if rng.random() < 0.2:  # mixed separators
        return groups[0] + "".join(_separator(rng) + g for g in groups[1:])
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
    if rng.random() < 0.08:  # typed digit by digit, maybe after a country code: "0 9 1 2 3 4 5 6 7 8"
        prefix = "" if kind.startswith("id") else rng.choice(["", "", "+84 ", "(+84) ", "84 ", "0084 "])
        written = prefix + _separator(rng).join(national if prefix == "" else national[1:])
    elif kind.startswith("id"):
        written = _join(rng, _groups(rng, national, [[3, 3, 3, 3], [3, 3, 6], [4, 4, 4], [3, 3, 3], [2, 3, 4],
                                                     [3, 3, 1, 2], [3, 3, 3, 1, 2], [4, 4, 1, 3]]))
    else:
        prefix = rng.choice(["", "", "+84", "+84 ", "84", "(+84) ", "(84) ", "0084 ", "+84 0"])
        rest = national if prefix == "" else national[1:]
        if kind == "landline" and prefix == "" and rng.random() < 0.5:
            area = next(a for a in AREA_CODES if national.startswith(a))
            written = f"({area}) " + _join(rng, _groups(rng, national[len(area):], [[4, 4], [3, 4], [4, 3],
                                                                                 [3, 1, 3]]))
        else:  # one-digit groups inside too: "0912 345 6 78" (not after four digits: "2019.5.12" is a date)
            body = _join(rng, _groups(rng, rest, [[4, 3, 3], [3, 3, 4], [4, 6], [2, 4, 4], [3, 3, 3],
                                                  [2, 3, 4], [2, 4, 4], [3, 4, 4], [4, 4, 3], [4, 2, 2, 2],
                                                  [4, 3, 1, 2], [3, 3, 1, 3], [2, 3, 1, 4], [3, 3, 1, 2],
                                                  [3, 4, 1, 3], [4, 3, 1, 3]]))
            gap = "" if prefix.endswith((" ", "0")) or not prefix else rng.choice(["", " "])
            written = prefix + gap + body
    if rng.random() < 0.3:
        written = written.translate(FULL_WIDTH)
    elif rng.random() < 0.1:  # some characters full-width, some not
        written = "".join(c.translate(FULL_WIDTH) if rng.random() < 0.5 else c for c in written)
    elif rng.random() < 0.15:  # digits of another script
        written = written.translate(rng.choice(OTHER_DIGITS))
    return written, national


# Contexts whose words before the number say what it is (then "123.456.789" is masked, else it reads as money).
NUMBER_WORD = re.compile(r"sđt|cccd|liên hệ|số điện thoại|gọi|số của tôi|căn cước")


def looks_like_money(written):
    """Dots or commas every three digits, not led by 0: 123.456.789, 123,456,789 (full-width dots and commas,
    middle dots and digits of any script read as ASCII)."""
    ascii_form = ascii_digits(written).translate(str.maketrans("．，\u00b7", ".,."))
    return bool(re.fullmatch(r"[1-9][0-9]{0,2}((\.[0-9]{3})+|(,[0-9]{3})+)", ascii_form))


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
        left = re.sub(r"[^0-9]", "", ascii_digits(masked))
        survived = [national[i:i + 9] for i in range(len(national) - 8) if national[i:i + 9] in left]
        if masked != expected or survived:
            failures.append((text, masked, expected))
    assert not failures, f"{len(failures)} of {CASES} not masked right, e.g. {failures[:5]}"


def test_the_generator_covers_every_form():
    """The cases really hold the forms the masking must handle (a generator that drifted would prove little)."""
    written = [w for _, w, _ in _generated_cases()]
    for form in ("(+84)", "(84)", "+84", "0084", "-", ".", "\u00a0", "０", "(0", ",", "/", "_"):
        assert any(form in w for w in written), form
    for pattern in (r"0[0-9]+(,[0-9]+)+", r"0[0-9]+(/[0-9]+)+", r"0[0-9]+(_[0-9]+)+", r"[0-9]( [0-9]){9,11}",
                    r"\+84 [0-9](\D{1,3}[0-9]){8,9}"):
        assert any(re.fullmatch(pattern, w) for w in written), pattern
    assert any(re.fullmatch(r"84[0-9]{9}", w) for w in written)
    assert any(re.fullmatch(r"[0-9]{3} [0-9]{3} [0-9]{3} [0-9]{3}", w) for w in written)
    cases = _generated_cases()
    said = [NUMBER_WORD.search(c.split("{}")[0].lower()) is not None for c, _, _ in cases]
    assert sum(looks_like_money(w) and s for (_, w, _), s in zip(cases, said)) >= 10
    assert sum(looks_like_money(w) and not s for (_, w, _), s in zip(cases, said)) >= 5
    for separator in ODD_SEPARATORS:
        assert any(separator in w for w in written), repr(separator)
    for table in OTHER_DIGITS:
        assert any(w.translate(table) == w and any(c.isdecimal() and not c.isascii() for c in w)
                   and re.search(f"[{''.join(map(chr, table.values()))}]", w) for w in written), table
    groups = [[len(g) for g in re.findall(r"\d+", ascii_digits(w))] for w in written]
    assert sum(len(g) > 2 and 1 in g[1:-1] and g[-1] >= 2 and g[0] >= 2 for g in groups) >= 50  # "0912 345 6 78"
    assert sum(looks_like_money(w) and c.startswith(("số của tôi", "căn cước")) for c, w, _ in cases) >= 2


@pytest.mark.parametrize("text, expected", [
    ("0912-345-678", "******5678"), ("(+84) 912 345 678", "******5678"), ("84912345678", "******5678"),
    ("001 099 012 345", "********2345"), ("001-099-012345", "********2345"), ("０９１２３４５６７８", "******5678"),
    ("(024) 3825 1234", "*******1234"), ("+84 24 3825 1234", "*******1234"), ("0912.345.678", "******5678"),
    ("Số0912345678", "Số******5678"), ("cmnd 123456789", "cmnd *****6789"), ("0084 912 345 678", "******5678"),
    ("0912345678 0987654321", "******5678 ******4321"), ("(0912345678)", "(******5678)"),
    ("０９１２－３４５－６７８", "******5678"), ("＋８４ ９１２ ３４５ ６７８", "******5678"),
    ("CCCD 123.456.789", "CCCD *****6789"), ("Số điện thoại: 912.345.678", "Số điện thoại: *****5678"),
    ("0 9 1 2 3 4 5 6 7 8", "******5678"), ("+84 9 1 2 3 4 5 6 7 8", "******5678"), ("0912,345,678", "******5678"),
    ("0912/345/678", "******5678"), ("0912_345_678", "******5678"), ("CCCD 123,456,789", "CCCD *****6789"),
    ("0 0 1 0 9 9 0 1 2 3 4 5", "********2345"), ("02/12/2026 0912/345/678", "02/12/2026 ******5678"),
    ("sdt:0912345678abc", "sdt:******5678abc"), ("sdt:0912345678abcdefabcdef", "sdt:******5678abcdefabcdef"),
    ("0912345678a0987654321", "******5678a******4321"), ("abcdefabcdef0912345678", "abcdefabcdef******5678"),
    ("ab0912345678cdef0123456789ư", "ab******5678cdef******6789ư"),
    # found by an outside tester
    ("0912*345*678", "******5678"), ("0912·345·678", "******5678"), ("0912--345--678", "******5678"),
    ("0912\t345\t678", "******5678"), ("0912 \t- 345\t678", "******5678"), ("0912\u2010345\u2011678", "******5678"),
    ("0912\u2012345\u2013678", "******5678"), ("0912 \u2014 345 \u2014 678", "******5678"),
    ("0912\u2212345\u2212678", "******5678"), ("0912\u00ad345\u00ad678", "******5678"),
    ("0912\u200b345\u200c678", "******5678"), ("0912\u200d345\u2060678\ufeff", "******5678\ufeff"),
    ("sđt\u200b0912345678", "sđt\u200b******5678"), ("\u200b".join("0912345678"), "******5678"),
    ("0912 345 6 78", "******5678"), ("+84 912 345 6 78", "******5678"), ("001 099 012 3 45", "********2345"),
    ("٠٩١٢٣٤٥٦٧٨", "******5678"), ("۰۹۱۲ ۳۴۵ ۶۷۸", "******5678"), ("𝟎𝟗𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "******5678"),
    ("gọi ०९१२-३४५-६७८ nhé", "gọi ******5678 nhé"), ("+٨٤ ٩١٢ ٣٤٥ ٦٧٨", "******5678"),
    ("số của tôi là 912.345.678", "số của tôi là *****5678"), ("sdt 912.345.678", "sdt *****5678"),
    ("căn cước công dân của tôi là 123.456.789", "căn cước công dân của tôi là *****6789"),
    ("số em là 912·345·678", "số em là *****5678"), ("CCCD 008440713052", "CCCD ********3052"),
])
def test_forms(text, expected):
    assert mask_text(text) == expected


def test_a_count_after_a_number_stays_out_of_it():
    """A single digit after a number is not a group of it ('0912345678 5 người')."""
    assert mask_text("số 0912345678 5 người") == "số ******5678 5 người"


@pytest.mark.parametrize("text", [
    "000.00.06.H56-231027-0361", "000. 00. 06. h56 - 231027 - 0361", "mã 000.00.06.H56–231027–0361 ạ",
    "02/12/2026", "02-12-2026", "02.12.2026", "2026-12-02 08:30", "từ 01/01/2025 - 31/12/2025",
    "1.500.000 đồng", "150.000.000", "150 000 000 đ", "2.000.000.000 VNĐ", "1.500.000đ", "12 500 000 đồng",
    "1.013831", "thủ tục 1.013831 và 1.012786", "1.013831 - 1.012786 - 2.000123",
    "thửa số 123, tờ bản đồ số 45", "thửa đất số 1234 tờ bản đồ 56", "diện tích 150,5 m2", "mã bưu chính 550000",
    "hotline 1900 1234", "1800 1091", "gọi 113", "2023 và 2024", "id 3f2a1b4c-1234-5678-9012-123456789012",
    "tin 5d41402abc4b2a76b9719d911017c592", "phiên bản 3.6.21", "",
    "1,500,000 đồng", "1,500,000", "150,000,000", "2,000,000,000 VNĐ", "từ 01/01/2025 - 31/12/2025", "2026/12/02",
    "02_12_2026", "ngày 1/2/2026", "câu 1, 2, 3, 4, 5, 6, 7, 8, 9", "thửa 123, 456, 789", "1/2/3",
    "msg 5d41402abc912345678bc4b2a76b9719d9", "msg_0912345678ab4b2a76b9719d9c", "0912345678 đồng",
    "912.345.678 đồng", "số của tôi là 912.345.678 đồng", "số tiền của tôi là 912.345.678", "912·345·678",
    "1\u200b.500\u200b.000 đồng", "912.345.678\u00ad đồng", "thửa 123,\u200b456,\u200b789", "thửa 123 , 456 , 789",
    "ngày 02\u201212\u20122026", "2019.5.12", "từ 01/01/2025 \u2014 31/12/2025", "hẹn ngày 15 3 2026 lúc 10 30",
    "000.00.06.H56\u2011231027\u20110361", "thủ tục 1.013831 \u2212 1.012786", "١٫٥٠٠٫٠٠٠",
    "câu 1 2 3", "mã bưu chính ٥٥٠٠٠٠",
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
                  amount.replace(".", ","), f"{amount.replace('.', ',')} đồng", f"{year}/{month:02d}/{day:02d}",
                  f"{day}_{month}_{year}", f"từ {day}/{month}/{year} - {day:02d}/{month:02d}/{year + 1}",
                  f"{rng.randint(1, 2)}.{rng.randint(0, 999999):06d}",
                  f"000.00.{rng.randint(0, 99):02d}.H{rng.randint(10, 99)}-{year % 100:02d}{month:02d}{day:02d}-"
                  f"{rng.randint(0, 9999):04d}",
                  f"thửa số {rng.randint(1, 9999)}, tờ bản đồ số {rng.randint(1, 200)}", str(rng.randint(0, 99999999))]
        text = ", ".join(rng.sample(pieces, rng.randint(1, 4)))
        if rng.random() < 0.3:  # written with other digits, dashes and dots
            text = text.translate(rng.choice(OTHER_DIGITS)) if rng.random() < 0.5 else text
            text = text.replace("-", rng.choice(["\u2010", "\u2011", "\u2013", "\u2212"]))
            text = text.replace(".", "\u00b7") if rng.random() < 0.3 else text
        assert mask_text(text) == text, text


def test_mask_number_and_digits():
    assert mask_number("0912 345 678") == "******5678"
    assert digits("+84 912 345 678") == "0912345678" and digits("(+84) 912.345.678") == "0912345678"
    assert digits("０９１２３４５６７８") == "0912345678" and digits(None) == ""
    assert digits("٠٩١٢ ٣٤٥ ٦٧٨") == "0912345678" and digits("𝟎𝟗𝟏𝟐\u200b345\u2011678") == "0912345678"


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


@pytest.mark.parametrize("number", [912345678, 84912345678, 79203004567, 150000000, 20260522, 3, -912345678])
def test_integers_in_log_records_follow_the_rule_of_mask_value(number):
    """One rule (mask_int) for an integer in stored data and in a log record, and '%d' still formats."""
    assert mask_value(number) == mask_int(number) and mask_value([number]) == [mask_int(number)]
    shown = str(mask_int(number))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "n=%d, %3d; s=%s", (number, 7, number), None)
    assert mask_record(record).getMessage() == f"n={shown},   7; s={shown}"
    named = logging.LogRecord("x", logging.INFO, __file__, 1, "n=%(n)d", ({"n": number},), None)
    assert mask_record(named).getMessage() == f"n={shown}"


def test_a_record_whose_format_does_not_fit_has_its_arguments_masked():
    """logging prints the format and the arguments of a record it cannot format: they are masked one by one."""
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "n=%d %d", (912345678, "0912 345 678"), None)
    assert mask_record(record).args == ("*****5678", "******5678")
    untouched = logging.LogRecord("x", logging.INFO, __file__, 1, "n=%d %s", (3, "xin chào"), None)
    assert mask_record(untouched).args == (3, "xin chào") and untouched.msg == "n=%d %s"


def test_installed_masking_formats_integers(captured):
    logger, _, lines = captured
    before = logging.getLogRecordFactory()
    try:
        install_log_masking()
        logger.warning("chat %d wrote %s, attempt %d of %5.1f", 912345678, "0912,345,678", 2, 3.0)
        logger.warning("split %s%s", "0912", "345678")  # a number cut between arguments is seen whole
    finally:
        logging.setLogRecordFactory(before)
    assert lines == ["chat *****5678 wrote ******5678, attempt 2 of   3.0", "split ******5678"]
