"""What kind of problem the customer has, from the subject and their own words.

Service recovery fits the gesture to the problem: a wrong charge is repaired by refunding
that charge, a parcel that never came by sending it again, a broken item by replacing it.
The kinds are general to any business; the phrases cover English, Spanish, German, French,
Portuguese and Italian. The first kind (in the order below) with a match wins: the more
specific ones come first ("the password does not work" is access, not a defect).
"""

from __future__ import annotations

import re

from empathy_firewall.models import Role, Ticket

__all__ = ["PROBLEMS", "problem_of"]

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "billing",
        re.compile(
            r"\b(?:charged (?:me )?(?:twice|two times|double|again|wrong\w*|for)|double[- ]charged|"
            r"double charge|overcharg\w*|wrong(?:ly)? (?:charged|billed|charge|amount)|"
            r"(?:unexpected|unauthori[sz]ed|duplicate) (?:charge|payment)|refund|renewal|"
            r"(?:invoice|bill) (?:is )?wrong|billed twice|"
            r"cobr(?:ado|aron|ó) (?:dos veces|de más|dos vezes|duas vezes|a mais)|cargo duplicado|"
            r"reembolso|devolución del cargo|renovación|"
            r"doppelt (?:abgebucht|berechnet)|falsch (?:abgebucht|berechnet)|rückerstattung|"
            r"verlängerung|"
            r"(?:prélevé|débité|facturé) (?:deux fois|à tort)|remboursement|renouvellement|"
            r"reembolso|estorno|renovação|"
            r"addebitat[oi] (?:due volte|per errore)|doppio addebito|rimborso|rinnovo)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "access",
        re.compile(
            r"\b(?:(?:can'?t|cannot|unable to) (?:log ?in|sign ?in|access)|locked out|"
            r"password|reset (?:e-?mail|link)|two[- ]factor|2fa|"
            r"no puedo (?:entrar|acceder|iniciar sesión)|contraseña|"
            r"(?:kann mich nicht|nicht) (?:anmelden|einloggen)|passwort|"
            r"(?:me connecter|connexion)|mot de passe|"
            r"não consigo (?:entrar|acessar)|senha|"
            r"non riesco ad? (?:accedere|entrare)|password)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "delivery",
        re.compile(
            r"\b(?:never (?:arrived|came|received)|not (?:arrived|delivered|received)|"
            r"(?:hasn'?t|has not|haven'?t|have not) (?:arrived|received)|"
            r"where is my (?:order|parcel|package)|lost (?:parcel|package)|tracking|deliver\w*|"
            r"shipping|shipment|parcel|"
            r"no ha llegado|no llegó|envío|paquete|pedido no|"
            r"nicht angekommen|lieferung|paket|sendung|"
            r"pas (?:arrivé|reçu)|livraison|colis|"
            r"não chegou|entrega|encomenda|"
            r"non (?:è )?arrivat[oa]|consegna|pacco|spedizione)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "defect",
        re.compile(
            r"\b(?:broken|damaged|defective|faulty|cracked|stopped working|doesn'?t work|"
            r"does not work|not working|dead on arrival|"
            r"roto|rota|dañado|defectuoso|no funciona|"
            r"kaputt|beschädigt|defekt|funktioniert nicht|"
            r"cassé|cassée|endommagé|défectueux|ne (?:marche|fonctionne) pas|"
            r"quebrad[oa]|danificad[oa]|defeituos[oa]|não funciona|"
            r"rott[oa]|danneggiat[oa]|difettos[oa]|non funziona)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "service",
        re.compile(
            r"\b(?:outage|is down|went down|not syncing|stopped syncing|sync\w* (?:error|issue)|"
            r"error message|crash\w*|bug|"
            r"caído|no sincroniza|error|"
            r"ausfall|synchronisiert nicht|fehler|absturz|"
            r"panne|ne synchronise|erreur|"
            r"fora do ar|não sincroniza|erro|"
            r"non sincronizza|errore|disservizio)\b",
            re.IGNORECASE,
        ),
    ),
)
#: the problem kinds, as ``recovery.problem`` reports them
PROBLEMS = (*(name for name, _ in _PATTERNS), "other")


def problem_of(ticket: Ticket) -> str:
    """The kind of problem: billing, delivery, defect, access, service or other."""
    texts = [ticket.subject or ""]
    texts += [
        c.text for c in ticket.comments if c.author_role is Role.CUSTOMER and c.public and c.text
    ]
    joined = "\n".join(texts)
    for name, pattern in _PATTERNS:
        if pattern.search(joined):
            return name
    return "other"
