"""Restating a record's prose as structure: each document's paper and condition, who files where,
and a short name for chat.

The records write conditions into the document's own sentence ("Văn bản thỏa thuận … đối với
trường hợp có nhiều người nhận chuyển quyền …", "… (nếu có)", "Trường hợp có biên bản họp … thì
… chỉ nộp …"). The importer splits them with the record's own wording and tags what the condition
is about with the situation table, so that an answer can list what this citizen needs and group
the rest under "Nếu …". What it cannot read it reports (``ImportReport``), never guesses.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from knowledge_base.importer.report import ImportReport
from knowledge_base.schema import Document, DocumentCase, FilingPlace, Procedure, Step, TimeUnit
from knowledge_base.situation import SituationTable
from knowledge_base.step_times import adding_up, step_limits
from knowledge_base.text import clean_space

# an owner who files ("đối với chủ lâm sản …", "… chủ cơ sở nuôi …"), not "chủ trương", "chủ tịch", "chủ quản"
_OWNER = r"chủ\s+(?:lâm sản|cơ sở|rừng|tàu|hàng|đầu tư|sở hữu|hộ|phương tiện|dự án|công trình|nuôi|trang trại)\b"
# what opens a case ("đối với các trường hợp …") and a kind of applicant ("đối với tổ chức …")
_CASE_LEAD = r"(?:đối với|trong|với)\s+(?:các\s+|những\s+)?trường hợp"
_APPLICANT_LEAD = r"đối với (?:tổ chức|cá nhân|hộ gia đình|người|doanh nghiệp|cơ sở|dự án|" + _OWNER + ")"
# Where a condition starts inside a document's sentence (the first one after the paper's name).
_CONDITION = re.compile(r"[\s,;(]+(?=(?:" + _CASE_LEAD + r"|trường hợp|nếu\s|" + _APPLICANT_LEAD + "))", re.IGNORECASE)
_CONDITION_LEAD = re.compile(r"^(?:" + _CASE_LEAD + r"|trường hợp|nếu)\s+", re.IGNORECASE)
# "đối với chủ lâm sản là tổ chức …": an owner said to be someone
_OWNER_WHO_IS = re.compile(r"^(?:đối với|với)\s+" + _OWNER + r"[^,;]*?\slà\s", re.IGNORECASE)
_IF_ANY = re.compile(r"\s*[(\[]?\s*nếu có\s*[)\]]?\s*[.;,]?\s*$", re.IGNORECASE)
_LEADING_CASE = re.compile(
    r"^(?:[a-zđ]\)\s*|\(\w+\)\s*)?(?:đối với\s+)?trường hợp(?:\s+\d+\s*:)?\s+(.+?)"
    r"(?:,?\s+thì\s+|\s*:\s*|,\s+(?=hồ sơ|người|các|phải|cần))(.+)$",
    re.IGNORECASE | re.DOTALL)
# "Đối với người nước ngoài, ngoài những giấy tờ nêu trên còn phải có Giấy phép lao động …": a paper only one kind
# of applicant adds to the others
_LEADING_APPLICANT = re.compile(
    r"^(đối với\s+[^,:]{3,80}?)[,:]\s*ngoài\s+(?:những|các)\s+[^,]{0,60}?\s*(?:nêu|quy định)\s+(?:ở\s+|tại\s+)?trên,?"
    r"\s+(?:còn\s+)?(?:phải\s+có|cần\s+có|phải\s+nộp|nộp\s+thêm|bổ\s+sung)\s+(.+)$",
    re.IGNORECASE | re.DOTALL)
_FORM_NUMBER = re.compile(r"\b[Mm]ẫu\s*(?:số\s*)?(\d{1,3}[a-zA-Z]?(?:[.\-/]\d{1,3})*(?:/[A-ZĐa-z0-9\-]+)?)")
_MIN_PAPER = 12  # a condition never starts before the paper has a name
_MIN_NAMED_PAPER = 4  # … and a parenthesised one ("Vận đơn (đối với trường hợp …)") after a word at least
# one case in parentheses inside the sentence, before what follows it ("… (đối với trường hợp X) theo Mẫu số 38")
_SENTENCE_END = re.compile(r"\.(?:\s+[A-ZĐÀ-Ỹ(]|\s*$)")
_ANOTHER_CASE = re.compile(r"\b(?<!trừ )(?:trường hợp|nếu)\b", re.IGNORECASE)  # "trừ trường hợp …" is an exception
_INNER_CONDITION = re.compile(r"\s*\(\s*(?:(?:đối với|trong)\s+(?:các\s+)?trường hợp|trường hợp)\s+([^()]{3,300})\)",
                              re.IGNORECASE)


def _sentence_case(text: str) -> str:
    text = clean_space(text).strip(" ,;:")
    return text[:1].upper() + text[1:] if text else text


# "… (đối với trường hợp là doanh nghiệp)." at the end of the sentence
_TAIL_CONDITION = re.compile(
    r"\s*\(\s*((?:(?:đối với|trong|với)\s+(?:các\s+)?trường hợp|trường hợp|nếu|đối với)\s[^()]*)\)\s*[.;]?\s*$",
    re.IGNORECASE)
_INNER_IF_ANY = re.compile(r"\s*\(\s*nếu có\s*\)", re.IGNORECASE)
# the form a paper is made on, written after its condition ("Sổ theo dõi … đối với cơ sở sản xuất, chế biến theo Mẫu
# số 29 Phụ lục II ban hành kèm theo Thông tư số 85/2025/TT-BNNMT"): part of the paper, up to a further case or the
# end (one inside a list of papers, before a semicolon, stays where it is)
_FORM_IN_CONDITION = re.compile(
    r",?\s+(theo\s+(?:quy định tại\s+)?[Mm]ẫu\s+(?:số\s+)?\d[^;]*?)(?=\s+" + _CASE_LEAD + r"\b|$)")
# a further case after a semicolon: the paper's forms by case ("Báo cáo … theo Mẫu 38 … hoặc báo cáo … trong trường
# hợp chưa có công trình theo Mẫu 39 …; báo cáo hiện trạng … đối với trường hợp công trình đang hoạt động theo Mẫu
# 40"; "Một trong các giấy tờ sau: … đối với cơ sở …; … đối với cơ sở …"), so no one condition of the paper
_CASE_AFTER_SEMICOLON = re.compile(r";.*\b(?:(?<!trừ )trường hợp|" + _APPLICANT_LEAD + r")\b", re.IGNORECASE)


def _outside_parentheses(text: str, position: int) -> bool:
    return text.count("(", 0, position) <= text.count(")", 0, position)


def _lead(condition: str) -> str:
    """A condition as it reads after "Nếu": "đối với tổ chức" -> "là tổ chức"; an owner said to be someone stays so
    ("đối với chủ lâm sản là tổ chức" -> "chủ lâm sản là tổ chức")."""
    if _OWNER_WHO_IS.match(condition):
        return re.sub(r"^(?:đối với|với)\s+", "", condition, flags=re.IGNORECASE)
    condition = re.sub(r"^(?:đối với|với)\s+", "là ", condition, flags=re.IGNORECASE)
    return re.sub(r"^quy định tại\b", "thuộc trường hợp quy định tại", condition, flags=re.IGNORECASE)


# a case's clause that says what someone must do in it ("…, chủ tàu phải khai báo và nêu rõ lý do"); not what the
# case is ("… không phải là người trực tiếp khai thác", "… thuộc trường hợp phải xin phép xây dựng")
_OBLIGED = re.compile(r",\s+(?:chủ|tổ chức|cá nhân|người|doanh nghiệp|cơ sở)\b[^,]{0,30}?(?<!không)\s+phải\s+(?!là\b)",
                      re.IGNORECASE)
_EXCEPT = re.compile(r"(?:^|[\s,])trừ(?:\s+(?:các|những))?$", re.IGNORECASE)
_EXCEPTED = re.compile(r"(?:^|[\s,(])trừ\s+(?:(?:các|những)\s+)?trường hợp\b", re.IGNORECASE)


def split_condition(name: str) -> Tuple[str, str, bool]:
    """(paper, condition, required) of a document's sentence; condition "" when it has none.

    The condition is the first "đối với trường hợp …", "trường hợp …", "nếu …" or "đối với <applicant>"
    clause outside parentheses, up to the end of its sentence; "(nếu có)" anywhere makes the paper optional.
    """
    text = clean_space(name)
    required = True
    if _IF_ANY.search(text):
        text, required = _IF_ANY.sub("", text), False
    if _INNER_IF_ANY.search(text):
        text, required = _INNER_IF_ANY.sub("", text), False
    extra = _LEADING_APPLICANT.match(text)
    if extra:
        return _sentence_case(extra.group(2)).rstrip("."), _lead(clean_space(extra.group(1))), required
    lead = _LEADING_CASE.match(text)
    if lead:
        return _sentence_case(lead.group(2)).rstrip("."), clean_space(lead.group(1)).rstrip("."), required
    inner = list(_INNER_CONDITION.finditer(text))
    if len(inner) > 1:  # "Mẫu 42 (đối với trường hợp …), Mẫu 43 (đối với trường hợp …)": forms by case, one paper
        return text.rstrip(". "), "", required
    tail = _TAIL_CONDITION.search(text)
    if tail and tail.start() >= _MIN_NAMED_PAPER:  # "Vận đơn (đối với trường hợp hàng hóa nhập theo đường biển)."
        condition = _CONDITION_LEAD.sub("", tail.group(1).strip()).rstrip(" .;")
        return text[:tail.start()].rstrip(" ,;."), _lead(condition), required
    # "Tờ khai … (đối với trường hợp …) theo Mẫu 38"; in a later sentence it is a note of its own, and with another
    # case after it ("…); trường hợp thay đổi chủ cơ sở phải có …") the sentence is left unread (and reported)
    if inner and inner[0].start() >= _MIN_NAMED_PAPER and not _SENTENCE_END.search(text[:inner[0].start()]):
        if _ANOTHER_CASE.search(text[inner[0].end():]):
            return text.rstrip(". "), "", required
        paper = re.sub(r"\s+([;,.])", r"\1", clean_space(text[:inner[0].start()] + " " + text[inner[0].end():]))
        paper = paper.rstrip(" .;,")
        return paper, _lead(clean_space(inner[0].group(1)).rstrip(" .;")), required
    for m in _CONDITION.finditer(text):
        if m.start() >= _MIN_PAPER and _outside_parentheses(text, m.end()) and "." not in text[:m.start()][-2:]:
            paper = text[:m.start()].rstrip(" ,;(")
            if _EXCEPT.search(paper) or _EXCEPTED.search(text[:m.start()]):
                # "Sơ đồ nhà ở, trừ trường hợp đã nộp … hoặc trường hợp …": needed unless those cases, not if
                return text.rstrip(". "), "", required
            rest = text[m.end():]
            end = re.search(r"\.\s+(?=[A-ZĐÀ-Ỹ])", rest)  # a following sentence is not part of the condition
            if _OBLIGED.search(rest[:end.start()] if end else rest):
                # "Bản chính Giấy chứng nhận …; trường hợp Giấy chứng nhận … bị mất, chủ tàu phải khai báo …": what to
                # do instead in one case, not when the paper is needed (it is, but in that case)
                return text.rstrip(". "), "", required
            condition = _CONDITION_LEAD.sub("", (rest[:end.start()] if end else rest).strip(" ()")).rstrip(" .;)")
            if _CASE_AFTER_SEMICOLON.search(condition):
                return text.rstrip(" .;"), "", required
            form = _FORM_IN_CONDITION.search(condition)
            if form:
                rest_of_condition = clean_space(condition[:form.start()] + " " + condition[form.end():])
                if _FORM_NUMBER.search(rest_of_condition) or _FORM_NUMBER.search(paper):
                    # "… đối với trường hợp cấp mới theo Mẫu số 01 đối với trường hợp cấp lại theo Mẫu số 02", "Báo
                    # cáo … theo Mẫu 38 … hoặc báo cáo hiện trạng … đối với trường hợp công trình đang hoạt động theo
                    # Mẫu 40" (1.000070): a form per case, alternatives of one paper
                    return text.rstrip(" .;"), "", required
                paper = f"{paper.rstrip(' .,;')} {form.group(1).rstrip(' .,;')}"
                condition = rest_of_condition
                # "chủ lâm sản là tổ chức … đối với trường hợp lâm sản là thực vật rừng": both cases hold
                condition = re.sub(r"\s+" + _CASE_LEAD + r"\s+", " và ", condition, flags=re.IGNORECASE)
            if condition.count("(") != condition.count(")"):
                condition = condition.replace("(", "").replace(")", "")
            return paper.rstrip("."), _lead(condition), required
    return text.rstrip(". "), "", required


def form_number(text: str) -> str:
    """'Mẫu số 18' when the sentence names a form, else ''."""
    m = _FORM_NUMBER.search(text or "")
    return f"Mẫu số {m.group(1)}" if m else ""


def structure_document(doc: Document, table: Optional[SituationTable] = None) -> Document:
    """The document with its paper, condition, tags and form number filled from its sentence."""
    table = table or SituationTable.default()
    paper, condition, required = split_condition(doc.name)
    cases, applicants, circumstances = table.about(condition) if condition else (frozenset(),) * 3
    issued_to = table.paper_for(paper) if not condition else frozenset()
    if len(issued_to) == 1:  # "Quyết định vị trí đóng quân … cho đơn vị quân đội": only such a unit brings it
        applicants = issued_to
        condition = "là " + table.label(next(iter(issued_to))).lower()
    cases = table.widen(paper, cases)
    return doc.copy(update={
        "title": paper if paper != doc.name else "", "condition": condition, "required": doc.required and required,
        "cases": sorted(cases), "applicant_types": sorted(applicants), "circumstances": sorted(circumstances),
        "form_number": form_number(paper) or (form_number(doc.name) if not condition else ""),
    })


# the words an office's name starts with (an agency's steps send to places too; a filing goes to one of these), not
# "sở hữu", "phòng chống"
_PLACE_WORDS = (r"(?:một trong các\s+|trực tiếp\s+)?(?:trung tâm|bộ phận|văn phòng|chi nhánh|ủy ban|ubnd|"
                r"sở(?!\s+hữu)|cơ quan|phòng(?!\s+(?:chống|ngừa))|cổng|chi cục|cục|ban quản lý|bưu)\b")
_STEP_LABEL = re.compile(r"^bước\s*\d+\s*[:.]\s*", re.IGNORECASE)
# the words that open when who files does it ("Trước khi vận chuyển …, chủ hàng gửi …", "Trong thời hạn 30 ngày …,
# tổ chức, cá nhân gửi …"); a clause that opens with one of the first three may list its cases across a semicolon
_WHEN_CLAUSE = ("trước khi", "sau khi", "khi")
_WHEN_WORDS = _WHEN_CLAUSE + ("trong thời hạn", "trong vòng")
# a sentence's end: a full stop, not after an address's capitals ("TP.", "P.", "Q."), then a capital
_CAPITALS = "A-ZĐĂÂÊÔƠƯ\u00C0-\u00DD" + "".join(c for c in map(chr, range(0x1EA0, 0x1EF9)) if c.isupper())
_FULL_STOP = r"(?-i:(?<!\b[A-ZĐ])(?<!\b[A-ZĐ]{2})\.\s+[" + _CAPITALS + "])"
# "Cá nhân, cộng đồng dân cư … nộp hồ sơ đến Trung tâm Phục vụ hành chính công hoặc …"; what is sent may be named at
# length, or how, before where it goes ("… gửi thông báo phương án chăn nuôi … theo biểu mẫu tại Phụ lục I … tới Sở
# Nông nghiệp và Môi trường", "nộp hồ sơ thông qua một trong các hình thức trực tiếp hoặc qua đường bưu điện về Sở …"):
# the place is the first one a preposition leads to, in the same sentence and clause; the file may go unnamed after
# "nộp" ("… chuẩn bị hồ sơ và nộp đến Cơ quan được Chủ tịch Ủy ban nhân dân cấp tỉnh giao …")
_FILES_AT = re.compile(
    r"^(?P<who>(?:" + "|".join(_WHEN_CLAUSE) + r")\s[^.:]{3,300}?|[^.:;]{3,300}?)"
    r"\s+(?:thì\s+)?(?:phải\s+|có trách nhiệm\s+)?"
    r"(?:(?:nộp|gửi)\s+(?:\S+\s+){0,3}?"
    r"(?:hồ sơ|thông báo(?! kết quả)|văn bản|tờ khai|báo cáo)\b(?:(?!" + _FULL_STOP + r")[^;]){0,250}?"
    r"\s+(?:trực tiếp\s+|trực tuyến\s+)?(?:đến|tới|tại|cho|về|vào)|(?<!đã\s)nộp\s+(?:đến|tới))"
    r"\s+(?P<where>(?=" + _PLACE_WORDS + r").{3,400}?)\.?$",
    re.IGNORECASE)
_SUBJECT_WORDS = (r"(?:các\s+|mọi\s+)?(?:tổ chức|cá nhân|người|hộ gia đình|chủ|doanh nghiệp|công ty|cộng đồng|cơ sở|"
                  r"hợp tác xã|đơn vị|thương nhân|nhà đầu tư|bên|ngư dân)\b")
# a step's title before who files that says no more than it is the filing ("Nộp hồ sơ: Tổ chức, cá nhân gửi hồ sơ
# đến Sở …", "a) Bước 1:", "(1) Trình tự thực hiện Bước 1:"); one that says for whom ("Cấp tỉnh - Bước 1:",
# "Trường hợp cấp lại:") keeps the line from being read
_TITLE_BEFORE_WHO = re.compile(r"^(?:nộp hồ sơ|tiếp nhận hồ sơ|(?:[a-zđ]\)\s*)?bước\s*\d+"
                               r"|(?:\(\d{1,2}\)\s*)?trình tự thực hiện(?:\s+bước\s*\d+)?)\s*:\s*"
                               r"(?=" + _SUBJECT_WORDS + ")", re.IGNORECASE)
_APPLICANT_SUBJECT = re.compile("^" + _SUBJECT_WORDS, re.IGNORECASE)
# "a) ", "Trường hợp ", "Đối với " before who files ("- Trường hợp cá nhân, cộng đồng dân cư … nộp hồ sơ đến …")
_CASE_OF = re.compile(r"^(?:[a-zđ]\)\s*)?(?:(?:trường hợp|đối với)\s+)?", re.IGNORECASE)
# "Trước khi vận chuyển động vật ra khỏi địa bàn cấp tỉnh chủ hàng gửi …", "Trong thời hạn 30 ngày … trước khi Giấy
# phép hết hiệu lực, tổ chức, cá nhân gửi …": who files comes after when they do
_WHEN = re.compile(r"^(?:" + "|".join(_WHEN_WORDS) + r")\s", re.IGNORECASE)
_SUBJECT_IN = re.compile(r"(?:^|(?<=\s))" + _SUBJECT_WORDS, re.IGNORECASE)
# after a when-clause, an office among who speaks is the agency's own step ("Khi nhận được hồ sơ của tổ chức, cá
# nhân, Sở … gửi văn bản …")
_AGENCY = re.compile(r"\b(?:(?<!cơ\s)sở|cơ quan|ủy ban|uỷ ban|ubnd)\b", re.IGNORECASE)
# what who files does before filing is no part of who they are ("Tổ chức, cá nhân lựa chọn nộp …", "… lập 01 bộ hồ sơ
# … và gửi …")
_ACTS = re.compile(r"(?<!thành)(?<!độc)(?<!thiết)(?<!xác)\s+(?:lựa chọn|lập|chuẩn bị|hoàn thiện)\b.*$", re.IGNORECASE)
# a filing again after a failed round ("Cơ sở không đáp ứng điều kiện, trong thời hạn 06 tháng …, tổ chức, cá nhân
# khắc phục và gửi báo cáo …") is not where one files
_AFTER_FAILING = re.compile(r"\b(?:không đáp ứng|không đạt|khắc phục)\b", re.IGNORECASE)
# what the office does next ("… tại Ủy ban nhân dân cấp xã thì Ủy ban nhân dân cấp xã có trách nhiệm gửi …"), the next
# sentence ("Cục Chăn nuôi và Thú y. Đối với cơ sở …"), what the record calls it from then on ("(sau đây gọi tắt là Bộ
# phận Một cửa)") and the list the line leads to ("…, hồ sơ gồm:") are no part of the place
_THEN = re.compile(r"\s+thì\s.*$|" + _FULL_STOP + r".*$", re.IGNORECASE)
_CALLED = re.compile(r"\s*\(sau đây (?:gọi tắt là|gọi là|viết tắt là)[^)]*\)", re.IGNORECASE)
_LIST_FOLLOWS = re.compile(r"[,.]\s*[^,.;:]{0,40}:\s*$")
# what is filed, said after the place a bare "nộp đến" leads to ("… nộp đến Sở Nông nghiệp và Môi trường 01 bộ hồ sơ")
_FILE_AFTER = re.compile(r"\s+0?\d+\s*(?:\(\w+\)\s*)?bộ\s+hồ\s+sơ\b.*$", re.IGNORECASE)
# how it is sent, said after the place, is the channels' part: "… thú y cấp tỉnh, theo một trong các hình thức sau:
# qua Cổng …", "… bằng cách thức trực tiếp hoặc …", "… trực tiếp hoặc gửi qua dịch vụ bưu chính …", "… cấp tỉnh hoặc
# qua dịch vụ bưu chính hoặc qua ủy quyền …", "… hoặc nộp trực tuyến tại Cổng …"; what for ("… nơi thực hiện dự án để
# được hỗ trợ") is no part of the place either
_HOW_AND_WHY = re.compile(
    r",?\s+(?:theo|bằng|thông qua|qua)\s+(?:một trong (?:các|những)\s+|các\s+)?(?:hình thức|phương thức|cách thức)\b.*$"
    r"|,?\s+(?:trực tiếp\s+)?(?:hoặc\s+)?(?:gửi\s+|nộp\s+)?(?:thông\s+)?qua\s+(?:dịch vụ bưu chính|môi trường|đường bưu"
    r"|bưu điện|hệ thống|cổng|cơ chế|ủy quyền|uỷ quyền)\b.*$"
    r"|\s+trực tiếp\s+hoặc\b.*$|\s+hoặc\s+(?:nộp\s+)?trực tuyến\b.*$|,\s+(?:qua\s+)?dịch vụ bưu chính\b.*$"
    r"|\s+để\s(?![^()]*\)).*$", re.IGNORECASE)
# a step's title glued before its text ("Bước 1: Đăng ký kiểm dịch Trước khi vận chuyển …, chủ hàng gửi …")
_GLUED_TITLE = re.compile(r"^[^.;:,]{3,60}?\s(?=(?-i:" + "|".join(w.capitalize() for w in _WHEN_WORDS) + r")\s)")


def _who(said: str) -> Optional[str]:
    """Who files, from the words before the verb; None when they are no applicant (an agency's own step)."""
    who = _CASE_OF.sub("", said).strip(" ,;")
    when = _WHEN.match(who)
    if when:
        parts = re.split(r"[,;]", who)  # "Sau khi … hoàn thành; tổ chức, cá nhân …": the when-clause ends either way
        first = next((i for i, part in enumerate(parts) if _APPLICANT_SUBJECT.match(part.strip())), None)
        if first is not None:
            who = ",".join(parts[first:])
        else:
            subject = _SUBJECT_IN.search(who, when.end())
            who = who[subject.start():] if subject else ""
        if _AGENCY.search(who):
            return None
    who = _ACTS.sub("", _CALLED.sub("", who)).strip(" ,;")
    return who if _APPLICANT_SUBJECT.match(who) and not _AFTER_FAILING.search(who) else None


def _place_of(said: str) -> str:
    """The office a filing goes to, without what follows it in the line (``_THEN``, ``_CALLED``, ``_HOW_AND_WHY``,
    ``_LIST_FOLLOWS``)."""
    place = _CALLED.sub("", _THEN.sub("", clean_space(said)))
    return _FILE_AFTER.sub("", _LIST_FOLLOWS.sub("", _HOW_AND_WHY.sub("", place))).rstrip(" ;.:,")


def filing_places(steps: List[Step], table: Optional[SituationTable] = None) -> List[FilingPlace]:
    """Who files where, from the lines of the steps that say it (each once)."""
    table = table or SituationTable.default()
    places: List[FilingPlace] = []
    for step in steps:
        for line in [step.name] + (step.description or "").splitlines():
            said = _TITLE_BEFORE_WHO.sub("", _STEP_LABEL.sub("", clean_space(line).strip(" -+•*")))
            m = _FILES_AT.match(_GLUED_TITLE.sub("", said))
            if not m or m.group("where").rstrip(" :").endswith(("sau", "sau đây")):
                continue
            who = _who(m.group("who"))
            if who is None:
                continue  # the agency's own steps ("Trong thời hạn 02 ngày …", "Sở … gửi hồ sơ …") are not filing
            where = _place_of(m.group("where"))
            cases, applicants, _ = table.about(who)
            place = FilingPlace(who=_sentence_case(who), where=where, applicant_types=sorted(applicants),
                                cases=sorted(cases))
            if place not in places:
                places.append(place)
    return places


# Short names: the official name up to where it starts listing cases, long stock phrases shortened.
_NAME_CUT = re.compile(r"\s+trong (?:các |một số )?trường hợp\s+|\s*[;(]", re.IGNORECASE)
_CASE_CUT = re.compile(r"\s+(?:đối với|với) (?:các )?trường hợp\s+", re.IGNORECASE)
_STOCK = (
    ("Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", "Giấy chứng nhận (sổ đỏ)"),
    ("quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", "đất, tài sản gắn liền với đất"),
    ("Ủy ban nhân dân", "UBND"),
)
SHORT_NAME = 110


def short_name(name: str, keep_case: bool = True, limit: int = SHORT_NAME) -> str:
    """A chat name for a procedure: what it does, without the list of cases it covers.

    ``keep_case`` keeps "đối với trường hợp …" (what sets twins apart); the result is cut back to
    ``limit`` characters at a clause boundary when there is one, never inside a word.
    """
    text = clean_space(name).rstrip(". ")
    for cut in (_NAME_CUT,) if keep_case else (_NAME_CUT, _CASE_CUT):
        m = cut.search(text)
        if m and m.start() >= 25:
            text = text[:m.start()].rstrip(" ,")
    for long, short in _STOCK:
        text = text.replace(long, short)
    while len(text) > limit:
        cut_at = max(text.rfind(", ", 0, limit), text.rfind(" hoặc ", 0, limit), text.rfind(" và ", 0, limit))
        if cut_at < 40:
            break
        text = text[:cut_at]
    return text


def distinct_short_names(procs: List[Procedure], generated: set) -> None:
    """Short names the importer wrote (``generated`` codes) that two different procedures share are
    made longer, so that an answer's head tells them apart."""
    by_name: dict = {}
    for proc in procs:
        by_name.setdefault(proc.short_name, []).append(proc)
    for same in by_name.values():
        if len({p.name for p in same}) > 1:
            for proc in same:
                if proc.code in generated:
                    proc.short_name = short_name(proc.name, limit=160)


def time_units_from_steps(proc: Procedure) -> None:
    """A time limit whose cell gives a number and no unit takes the unit the record's steps give that number, when
    they give it one unit only ("5" and "trong thời hạn 05 ngày làm việc"), or when their limits, one a step, add up to
    it in one unit ("20": 18 and 2 working days); otherwise it stays without one."""
    said: Dict[float, set] = {}
    limits = step_limits(proc)
    for limit in limits:
        said.setdefault(limit.value, set()).add(limit.unit)
    for channel in proc.channels:
        time = channel.time
        if time.value is None or time.unit != TimeUnit.unspecified:
            continue
        units = said.get(time.value, set())
        unit = next(iter(units)) if len(units) == 1 else adding_up(limits, time.value)
        if unit is not None:
            time.unit, time.unit_from = unit, "steps"


# A heading that sets one case's papers apart: "Đối với tàu bị chìm đắm …", "(2) Đối với thuốc dạng dược phẩm …"
_FOR_CASE = re.compile(r"^(?:\(?(?:\d{1,2}|[a-zđ])[.)]\s*)?đối với\s", re.IGNORECASE)
_NOTE = re.compile(r"^\s*lưu ý\b", re.IGNORECASE)
# a case's heading that says its papers come on top of others ("…, ngoài giấy tờ quy định tại điểm a1 và điểm a2 …")
_BESIDE = re.compile(r"\bngoài (?:các |những )?(?:giấy tờ|hồ sơ|thành phần)", re.IGNORECASE)
OTHER_CASES = "Các trường hợp khác"


def with_common_part(cases: List[DocumentCase]) -> List[DocumentCase]:
    """The cases of a record that lists papers per case ("Đối với …") and last, under no heading, papers that none
    of the cases lists: those are every case's (1.003681, deregistering a fishing boat: the declaration, Mẫu số
    10.ĐKT, after the papers of a sunken, a sold and a scrapped boat; 3.000179: the application "ngoài" which each
    case adds its own). They join each case, first, and stay a case of their own, named as the others' rest, unless
    every case says its papers come on top of them ("ngoài giấy tờ …": no case without one of them). A last
    group that is only a note ("Lưu ý: …"), shares a paper with a case, or follows headings of another kind (a
    part of the dossier: "Hồ sơ năng lực") is left as the record has it."""
    if len(cases) < 2:
        return cases
    *named, last = cases
    if last.name.strip() or not all(_FOR_CASE.match(c.name) for c in named):
        return cases
    papers = {clean_space(d.name).lower() for c in named for d in c.documents}
    if all(_NOTE.match(d.name) for d in last.documents) \
            or any(clean_space(d.name).lower() in papers for d in last.documents):
        return cases
    joined = [DocumentCase(name=c.name, documents=[d.copy(deep=True) for d in last.documents] + c.documents,
                           note=c.note) for c in named]
    if all(_BESIDE.search(c.name) for c in named):  # every case adds to them: they are no case alone
        return joined
    return joined + [DocumentCase(name=OTHER_CASES, documents=last.documents, note=last.note)]


def structure_procedure(proc: Procedure, report: ImportReport, source: str,
                        table: Optional[SituationTable] = None) -> Procedure:
    """Fill the structured fields of a parsed procedure; report sentences whose condition could not be read."""
    table = table or SituationTable.default()
    proc.document_cases = with_common_part(proc.document_cases)
    for case in proc.document_cases:
        case.documents = [structure_document(d, table) for d in case.documents]
        for doc in case.documents:
            # "…, trừ trường hợp X" is an exception of a needed paper, read whole; any other case unread is reported
            cases = len(re.findall(r"\btrường hợp\b", doc.name, re.IGNORECASE))
            if not doc.condition and cases > len(_EXCEPTED.findall(doc.name)):
                report.fail(source, "document_condition", f"condition not read: {doc.name[:120]}")
    proc.filing_places = filing_places(proc.steps, table)
    time_units_from_steps(proc)
    proc.short_name = proc.short_name or short_name(proc.name, keep_case=False)
    return proc
