"""Support-domain seed sentences in six languages, written for this project (no data-set text).

The tweets the scorer learns from are about airlines (English) and about anything at all
(UMSAB). Neither holds many plain support questions, and tweets that are questions are often
rhetorical and negative, so a model fitted on them alone reads "¿Qué métodos de pago aceptan?"
as a complaint. These frames (questions, complaints, thanks) times everyday objects of any
business teach the model what neutral, negative and positive support messages look like in
each language. They are deliberately different sentences from the test sets in tests/data.
"""

from __future__ import annotations

from itertools import product

__all__ = ["seed_rows"]

# language -> (objects, neutral frames, negative frames, positive frames); "{o}" is the object
_SEED: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("order", "invoice", "account", "subscription", "delivery", "payment", "licence", "card"),
        (
            "How do I update my {o}?",
            "Where can I see my {o}?",
            "Can you tell me the status of my {o}?",
            "Is it possible to change my {o} next week?",
            "What do I need to transfer my {o} to a colleague?",
            "Could you send me the details of my {o}, please?",
            "When will my {o} be ready?",
            "Who should I contact about my {o}?",
        ),
        (
            "My {o} is still not working and nobody helps me.",
            "This is unacceptable, my {o} is wrong again.",
            "I'm really disappointed, the {o} was a total mess.",
            "Terrible experience with my {o}, I'm furious.",
            "You messed up my {o} and I want it fixed now.",
            "I am fed up with the problems with my {o}.",
            "The {o} is a disaster and your support is useless.",
            "Still no solution for my {o}, awful service.",
            "I was billed twice for my {o}.",
            "My {o} hasn't arrived yet and it's been ten days.",
            "The {o} keeps failing every time I try.",
            "I'm not happy with how my {o} was handled.",
        ),
        (
            "Thank you, my {o} is sorted now!",
            "Great service, the {o} works perfectly.",
            "Thanks a lot for helping with my {o}.",
            "Brilliant, everything with the {o} is perfect now.",
            "Really happy with how you handled my {o}.",
            "You were super helpful with my {o}, thanks!",
            "Perfect, the {o} issue is solved. Much appreciated.",
            "Excellent support with my {o}, well done.",
        ),
    ),
    "es": (
        ("pedido", "recibo", "usuario", "contrato", "envío", "pago", "servicio", "plan"),
        (
            "¿Cómo actualizo mi {o}?",
            "¿Dónde puedo ver mi {o}?",
            "¿Me pueden decir el estado de mi {o}?",
            "¿Es posible cambiar mi {o} la semana que viene?",
            "¿Qué necesito para transferir mi {o} a un compañero?",
            "¿Podrían enviarme los datos de mi {o}, por favor?",
            "¿Cuándo estará listo mi {o}?",
            "¿Con quién hablo sobre mi {o}?",
        ),
        (
            "Mi {o} sigue sin funcionar y nadie me ayuda.",
            "Esto es inaceptable, mi {o} está mal otra vez.",
            "Estoy muy decepcionado, el {o} ha sido un desastre.",
            "Pésima experiencia con mi {o}, estoy furioso.",
            "Habéis estropeado mi {o} y quiero que lo arregléis ya.",
            "Estoy harto de los problemas con mi {o}.",
            "El {o} es un desastre y vuestro soporte no sirve.",
            "Todavía sin solución para mi {o}, servicio horrible.",
            "Me han cobrado dos veces el {o}.",
            "Mi {o} aún no ha llegado y ya van diez días.",
            "El {o} falla cada vez que lo intento.",
            "No estoy contento con cómo gestionaron mi {o}.",
        ),
        (
            "¡Gracias, mi {o} ya está resuelto!",
            "Muy buen servicio, el {o} funciona perfecto.",
            "Muchas gracias por ayudarme con mi {o}.",
            "Genial, ahora todo con el {o} está perfecto.",
            "Muy contento con cómo gestionaron mi {o}.",
            "Fueron muy amables con mi {o}, ¡gracias!",
            "Perfecto, lo del {o} está solucionado. Se agradece.",
            "Excelente atención con mi {o}, buen trabajo.",
        ),
    ),
    "de": (
        ("Auftrag", "Vertrag", "Account", "Versand", "Tarif", "Zugang", "Service", "Termin"),
        (
            "Wie aktualisiere ich meinen {o}?",
            "Wo kann ich meinen {o} einsehen?",
            "Können Sie mir den Stand meines {o}s nennen?",
            "Ist es möglich, meinen {o} nächste Woche zu ändern?",
            "Was brauche ich, um meinen {o} an einen Kollegen zu übertragen?",
            "Könnten Sie mir bitte die Details zu meinem {o} schicken?",
            "Wann ist mein {o} fertig?",
            "An wen wende ich mich wegen meines {o}s?",
        ),
        (
            "Mein {o} funktioniert immer noch nicht und niemand hilft mir.",
            "Das ist inakzeptabel, mein {o} ist schon wieder falsch.",
            "Ich bin wirklich enttäuscht, der {o} war ein einziges Chaos.",
            "Furchtbare Erfahrung mit meinem {o}, ich bin wütend.",
            "Sie haben meinen {o} vermasselt und ich will, dass das sofort behoben wird.",
            "Ich habe die Probleme mit meinem {o} satt.",
            "Der {o} ist eine Katastrophe und Ihr Support ist nutzlos.",
            "Immer noch keine Lösung für meinen {o}, miserabler Service.",
            "Mir wurde der {o} doppelt berechnet.",
            "Mein {o} ist nach zehn Tagen immer noch nicht da.",
            "Der {o} schlägt jedes Mal fehl.",
            "Ich bin nicht zufrieden damit, wie mein {o} bearbeitet wurde.",
        ),
        (
            "Danke, mein {o} ist jetzt erledigt!",
            "Toller Service, der {o} funktioniert perfekt.",
            "Vielen Dank für die Hilfe mit meinem {o}.",
            "Super, mit dem {o} ist jetzt alles perfekt.",
            "Sehr zufrieden, wie Sie meinen {o} bearbeitet haben.",
            "Sie waren sehr hilfsbereit mit meinem {o}, danke!",
            "Perfekt, das Problem mit dem {o} ist gelöst. Herzlichen Dank.",
            "Ausgezeichneter Support bei meinem {o}, gut gemacht.",
        ),
    ),
    "fr": (
        ("compte", "contrat", "abonnement", "colis", "paiement", "dossier", "forfait", "accès"),
        (
            "Comment mettre à jour mon {o} ?",
            "Où puis-je consulter mon {o} ?",
            "Pouvez-vous me dire où en est mon {o} ?",
            "Est-il possible de modifier mon {o} la semaine prochaine ?",
            "Que faut-il pour transférer mon {o} à un collègue ?",
            "Pourriez-vous m'envoyer les détails de mon {o}, s'il vous plaît ?",
            "Quand mon {o} sera-t-il prêt ?",
            "Qui dois-je contacter au sujet de mon {o} ?",
        ),
        (
            "Mon {o} ne fonctionne toujours pas et personne ne m'aide.",
            "C'est inacceptable, mon {o} est encore faux.",
            "Je suis vraiment déçu, le {o} a été un vrai désastre.",
            "Expérience horrible avec mon {o}, je suis furieux.",
            "Vous avez saboté mon {o} et je veux que ce soit réparé tout de suite.",
            "J'en ai marre des problèmes avec mon {o}.",
            "Le {o} est une catastrophe et votre support ne sert à rien.",
            "Toujours aucune solution pour mon {o}, service lamentable.",
            "On m'a facturé deux fois le {o}.",
            "Mon {o} n'est toujours pas arrivé après dix jours.",
            "Le {o} plante à chaque fois que j'essaie.",
            "Je ne suis pas satisfait de la gestion de mon {o}.",
        ),
        (
            "Merci, mon {o} est réglé maintenant !",
            "Super service, le {o} fonctionne parfaitement.",
            "Merci beaucoup pour votre aide avec mon {o}.",
            "Génial, tout est parfait avec le {o} maintenant.",
            "Très content de la façon dont vous avez traité mon {o}.",
            "Vous avez été très serviables pour mon {o}, merci !",
            "Parfait, le problème de {o} est résolu. Merci infiniment.",
            "Excellent support pour mon {o}, bravo.",
        ),
    ),
    "pt": (
        ("pedido", "contrato", "cadastro", "pacote", "pagamento", "plano", "serviço", "acesso"),
        (
            "Como atualizo meu {o}?",
            "Onde posso ver meu {o}?",
            "Podem me dizer a situação do meu {o}?",
            "É possível alterar meu {o} na semana que vem?",
            "O que preciso para transferir meu {o} para um colega?",
            "Poderiam me enviar os detalhes do meu {o}, por favor?",
            "Quando meu {o} vai ficar pronto?",
            "Com quem falo sobre o meu {o}?",
        ),
        (
            "Meu {o} continua sem funcionar e ninguém me ajuda.",
            "Isso é inaceitável, meu {o} está errado de novo.",
            "Estou muito decepcionado, o {o} foi uma bagunça total.",
            "Experiência péssima com meu {o}, estou furioso.",
            "Vocês estragaram meu {o} e quero que resolvam agora.",
            "Estou cansado dos problemas com meu {o}.",
            "O {o} é um desastre e o suporte de vocês não serve para nada.",
            "Ainda sem solução para o meu {o}, atendimento horrível.",
            "Fui cobrado duas vezes pelo {o}.",
            "Meu {o} ainda não chegou e já faz dez dias.",
            "O {o} falha toda vez que eu tento.",
            "Não estou satisfeito com a forma como trataram meu {o}.",
        ),
        (
            "Obrigado, meu {o} já está resolvido!",
            "Ótimo atendimento, o {o} funciona perfeitamente.",
            "Muito obrigado pela ajuda com meu {o}.",
            "Maravilha, agora está tudo perfeito com o {o}.",
            "Muito satisfeito com a forma como cuidaram do meu {o}.",
            "Vocês foram muito prestativos com meu {o}, obrigado!",
            "Perfeito, o problema do {o} foi resolvido. Agradeço muito.",
            "Excelente suporte com meu {o}, parabéns.",
        ),
    ),
    "it": (
        ("ordine", "contratto", "profilo", "pacco", "pagamento", "piano", "servizio", "accesso"),
        (
            "Come aggiorno il mio {o}?",
            "Dove posso vedere il mio {o}?",
            "Potete dirmi lo stato del mio {o}?",
            "È possibile modificare il mio {o} la prossima settimana?",
            "Cosa serve per trasferire il mio {o} a un collega?",
            "Potreste inviarmi i dettagli del mio {o}, per favore?",
            "Quando sarà pronto il mio {o}?",
            "A chi mi rivolgo per il mio {o}?",
        ),
        (
            "Il mio {o} continua a non funzionare e nessuno mi aiuta.",
            "È inaccettabile, il mio {o} è di nuovo sbagliato.",
            "Sono davvero deluso, il {o} è stato un disastro totale.",
            "Esperienza pessima con il mio {o}, sono furioso.",
            "Avete rovinato il mio {o} e voglio che sia sistemato subito.",
            "Sono stufo dei problemi con il mio {o}.",
            "Il {o} è un disastro e la vostra assistenza è inutile.",
            "Ancora nessuna soluzione per il mio {o}, servizio orribile.",
            "Mi avete addebitato due volte il {o}.",
            "Il mio {o} non è ancora arrivato dopo dieci giorni.",
            "Il {o} si blocca ogni volta che ci provo.",
            "Non sono soddisfatto di come avete gestito il mio {o}.",
        ),
        (
            "Grazie, il mio {o} ora è a posto!",
            "Ottimo servizio, il {o} funziona perfettamente.",
            "Grazie mille per l'aiuto con il mio {o}.",
            "Fantastico, ora con il {o} è tutto perfetto.",
            "Molto contento di come avete gestito il mio {o}.",
            "Siete stati gentilissimi con il mio {o}, grazie!",
            "Perfetto, il problema del {o} è risolto. Vi ringrazio.",
            "Assistenza eccellente per il mio {o}, complimenti.",
        ),
    ),
}


def seed_rows() -> list[tuple[str, int, str]]:
    """(language, label index: 0 negative / 1 neutral / 2 positive, text) of every seed."""
    rows: list[tuple[str, int, str]] = []
    for language, (objects, neutral, negative, positive) in _SEED.items():
        for label, frames in ((1, neutral), (0, negative), (2, positive)):
            for frame, obj in product(frames, objects):
                rows.append((language, label, frame.format(o=obj)))
    return rows
