"""One recogniser per entity type (presidio's layout): mostly data, a little logic.

Number entities (`NumberEntity`) judge a spoken digit string: its length, prefix,
checksum and the cue words said around it. Text entities (`TextEntity`) find their
spans themselves (e-mail, plate, address, name, custom patterns).
"""

from __future__ import annotations

from qa_engine.pii.entities.address import Address
from qa_engine.pii.entities.bank_card import BankCard
from qa_engine.pii.entities.base import NumberEntity, TextEntity
from qa_engine.pii.entities.email import Email
from qa_engine.pii.entities.id_card import IdCard
from qa_engine.pii.entities.landline import Landline
from qa_engine.pii.entities.name import PersonName
from qa_engine.pii.entities.phone import Phone
from qa_engine.pii.entities.plate import Plate
from qa_engine.pii.entities.vcode import VerificationCode

# Order matters: a longer, checksummed number is judged before a looser one.
NUMBER_ENTITIES: tuple[NumberEntity, ...] = (IdCard(), BankCard(), Phone(), Landline(), VerificationCode())
TEXT_ENTITIES: tuple[TextEntity, ...] = (Email(), Plate(), Address(), PersonName())
ENTITIES = {e.name: e for e in (*NUMBER_ENTITIES, *TEXT_ENTITIES)}
LABELS = {e.name: e.label for e in ENTITIES.values()}

__all__ = ["ENTITIES", "LABELS", "NUMBER_ENTITIES", "TEXT_ENTITIES", "NumberEntity", "TextEntity"]
