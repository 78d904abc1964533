//! The built-in customer-facing templates in French.

use super::{
    ACKNOWLEDGEMENT, Builtin, INPUT_REQUEST, PUBLIC_REPLY_DRAFT, RESOLUTION_CONFIRMATION, RESOLUTION_OFFER,
    SATISFACTION_SURVEY, SENIOR_LEADER_EMAIL, STATUS_UPDATE,
};
use crate::domain::template::Audience::Customer;

/// Every built-in template in `fr`.
pub(super) const TEMPLATES: &[Builtin] = &[
    Builtin {
        key: ACKNOWLEDGEMENT,
        audience: Customer,
        subject: "Toutes nos excuses : nous avons bien reçu votre réclamation {{ case.reference }}",
        text: r#"Bonjour {{ customer.display_name }},

Merci de nous avoir signalé « {{ case.subject }} ». Nous sommes sincèrement désolés de ce qui s'est passé et nous comprenons à quel point la situation est contrariante.

Votre réclamation porte la référence {{ case.reference }}{% if case.owner %} ; {{ case.owner }} s'en occupera du début à la fin{% endif %}.
{% if case.desired_outcome %}

Vous nous avez indiqué souhaiter : {{ case.desired_outcome }}. Nous en tiendrons compte en cherchant ce qui n'a pas fonctionné.
{% endif %}

Nous vous écrirons très bientôt. Pour parler à une personne, répondez à ce message ou contactez {{ reply_to }} en indiquant la référence {{ case.reference }}.

Avec toutes nos excuses,
L'équipe du service client {{ tenant }}
"#,
        html: Some(
            r#"<p>Bonjour {{ customer.display_name }},</p>
<p>Merci de nous avoir signalé &laquo;&nbsp;{{ case.subject }}&nbsp;&raquo;. Nous sommes sincèrement désolés de ce qui s'est passé et nous comprenons à quel point la situation est contrariante.</p>
<p>Votre réclamation porte la référence <strong>{{ case.reference }}</strong>{% if case.owner %}&nbsp;; {{ case.owner }} s'en occupera du début à la fin{% endif %}.</p>
{% if case.desired_outcome %}
<p>Vous nous avez indiqué souhaiter&nbsp;: {{ case.desired_outcome }}. Nous en tiendrons compte en cherchant ce qui n'a pas fonctionné.</p>
{% endif %}
<p>Nous vous écrirons très bientôt. Pour parler à une personne, répondez à ce message ou contactez {{ reply_to }} en indiquant la référence <strong>{{ case.reference }}</strong>.</p>
<p>Avec toutes nos excuses,<br>L'équipe du service client {{ tenant }}</p>
"#,
        ),
    },
    Builtin {
        key: STATUS_UPDATE,
        audience: Customer,
        subject: "Du nouveau sur votre réclamation {{ case.reference }}",
        text: r#"Bonjour {{ customer.display_name }},

{% if update is defined %}
Voici où en est votre réclamation {{ case.reference }} : {{ update }}
{% else %}
Nous travaillons toujours sur votre réclamation {{ case.reference }} et nous ne vous oublions pas. Nous vous écrirons dès que nous aurons du nouveau.
{% endif %}

Pour toute question, répondez à ce message ou contactez {{ reply_to }} en indiquant la référence {{ case.reference }} ; une personne vous répondra.

Bien cordialement,
L'équipe du service client {{ tenant }}
"#,
        html: Some(
            r#"<p>Bonjour {{ customer.display_name }},</p>
{% if update is defined %}
<p>Voici où en est votre réclamation <strong>{{ case.reference }}</strong>&nbsp;: {{ update }}</p>
{% else %}
<p>Nous travaillons toujours sur votre réclamation <strong>{{ case.reference }}</strong> et nous ne vous oublions pas. Nous vous écrirons dès que nous aurons du nouveau.</p>
{% endif %}
<p>Pour toute question, répondez à ce message ou contactez {{ reply_to }} en indiquant la référence <strong>{{ case.reference }}</strong>&nbsp;; une personne vous répondra.</p>
<p>Bien cordialement,<br>L'équipe du service client {{ tenant }}</p>
"#,
        ),
    },
    Builtin {
        key: INPUT_REQUEST,
        audience: Customer,
        subject: "Une question sur votre réclamation {{ case.reference }}",
        text: r#"Bonjour {{ customer.display_name }},

Pour régler votre réclamation, nous avons besoin d'un complément d'information :

{{ question }}

Répondez simplement à ce message, ou contactez {{ reply_to }} en indiquant la référence {{ case.reference }}. Dès votre réponse, une personne reprendra votre dossier.

Merci,
L'équipe du service client {{ tenant }}
"#,
        html: Some(
            r#"<p>Bonjour {{ customer.display_name }},</p>
<p>Pour régler votre réclamation, nous avons besoin d'un complément d'information&nbsp;:</p>
<blockquote>{{ question }}</blockquote>
<p>Répondez simplement à ce message, ou contactez {{ reply_to }} en indiquant la référence <strong>{{ case.reference }}</strong>. Dès votre réponse, une personne reprendra votre dossier.</p>
<p>Merci,<br>L'équipe du service client {{ tenant }}</p>
"#,
        ),
    },
    Builtin {
        key: RESOLUTION_OFFER,
        audience: Customer,
        subject: "Notre proposition pour régler votre réclamation {{ case.reference }}",
        text: r#"Bonjour {{ customer.display_name }},

Merci de votre patience pendant que nous examinions votre réclamation {{ case.reference }}. Pour réparer les choses, nous vous proposons {{ offer.description }}{% if offer.amount %} ({{ offer.amount }}){% endif %}.

Dites-nous si cela vous convient : répondez à ce message ou contactez {{ reply_to }} en indiquant la référence {{ case.reference }}. Si ce n'est pas ce que vous espériez, dites-le-nous ; une personne en discutera avec vous.

Bien cordialement,
L'équipe du service client {{ tenant }}
"#,
        html: Some(
            r#"<p>Bonjour {{ customer.display_name }},</p>
<p>Merci de votre patience pendant que nous examinions votre réclamation <strong>{{ case.reference }}</strong>. Pour réparer les choses, nous vous proposons {{ offer.description }}{% if offer.amount %} (<strong>{{ offer.amount }}</strong>){% endif %}.</p>
<p>Dites-nous si cela vous convient&nbsp;: répondez à ce message ou contactez {{ reply_to }} en indiquant la référence <strong>{{ case.reference }}</strong>. Si ce n'est pas ce que vous espériez, dites-le-nous&nbsp;; une personne en discutera avec vous.</p>
<p>Bien cordialement,<br>L'équipe du service client {{ tenant }}</p>
"#,
        ),
    },
    Builtin {
        key: RESOLUTION_CONFIRMATION,
        audience: Customer,
        subject: "Votre réclamation {{ case.reference }} est réglée",
        text: r#"Bonjour {{ customer.display_name }},

Votre réclamation {{ case.reference }} (« {{ case.subject }} ») est désormais réglée. Merci de nous avoir permis de corriger le problème, et encore toutes nos excuses pour le désagrément.

Qu'avez-vous pensé de notre service ? Votre avis ne prend qu'une minute et nous aide à éviter que cela se reproduise :
{{ survey_link }}

Si quelque chose ne va toujours pas, répondez à ce message ou contactez {{ reply_to }} en indiquant la référence {{ case.reference }} : une personne reprendra votre dossier sans attendre.

Bien cordialement,
L'équipe du service client {{ tenant }}
"#,
        html: Some(
            r#"<p>Bonjour {{ customer.display_name }},</p>
<p>Votre réclamation <strong>{{ case.reference }}</strong> (&laquo;&nbsp;{{ case.subject }}&nbsp;&raquo;) est désormais réglée. Merci de nous avoir permis de corriger le problème, et encore toutes nos excuses pour le désagrément.</p>
<p>Qu'avez-vous pensé de notre service&nbsp;? Votre avis ne prend qu'une minute et nous aide à éviter que cela se reproduise&nbsp;: <a href="{{ survey_link }}">donnez-nous votre avis</a>.</p>
<p>Si quelque chose ne va toujours pas, répondez à ce message ou contactez {{ reply_to }} en indiquant la référence <strong>{{ case.reference }}</strong>&nbsp;: une personne reprendra votre dossier sans attendre.</p>
<p>Bien cordialement,<br>L'équipe du service client {{ tenant }}</p>
"#,
        ),
    },
    Builtin {
        key: SATISFACTION_SURVEY,
        audience: Customer,
        subject: "Votre avis sur le traitement de votre réclamation {{ case.reference }}",
        text: r#"Bonjour {{ customer.display_name }},

Il y a quelques jours, nous avons réglé votre réclamation {{ case.reference }} (« {{ case.subject }} »). Nous aimerions savoir ce que vous avez pensé de notre service ; cela ne prend qu'une minute :
{{ survey_link }}

Si le problème est revenu, répondez à ce message ou contactez {{ reply_to }} en indiquant la référence {{ case.reference }} : une personne reprendra votre dossier.

Merci,
L'équipe du service client {{ tenant }}
"#,
        html: Some(
            r#"<p>Bonjour {{ customer.display_name }},</p>
<p>Il y a quelques jours, nous avons réglé votre réclamation <strong>{{ case.reference }}</strong> (&laquo;&nbsp;{{ case.subject }}&nbsp;&raquo;). Nous aimerions savoir ce que vous avez pensé de notre service&nbsp;; cela ne prend qu'une minute&nbsp;: <a href="{{ survey_link }}">répondre au questionnaire</a>.</p>
<p>Si le problème est revenu, répondez à ce message ou contactez {{ reply_to }} en indiquant la référence <strong>{{ case.reference }}</strong>&nbsp;: une personne reprendra votre dossier.</p>
<p>Merci,<br>L'équipe du service client {{ tenant }}</p>
"#,
        ),
    },
    Builtin {
        key: SENIOR_LEADER_EMAIL,
        audience: Customer,
        subject: "Un mot personnel au sujet de votre réclamation {{ case.reference }}",
        text: r#"Bonjour {{ customer.display_name }},

Je suis {{ sender.display_name }}, {{ sender.role }} chez {{ tenant }}, et je tenais à vous écrire personnellement.

J'ai pris connaissance de ce que vous avez vécu avec « {{ case.subject }} » et j'en suis désolé(e). Ce n'est pas le service que nous voulons offrir, et j'ai demandé à l'équipe d'en faire sa priorité.
{% if case.owner %}

{{ case.owner }} suit votre dossier personnellement.
{% endif %}

J'aimerais beaucoup avoir de vos nouvelles. Vous pouvez nous joindre à {{ reply_to }} en indiquant la référence {{ case.reference }} ; une personne vous répondra.

Bien sincèrement,
{{ sender.display_name }}
{{ sender.role }}, {{ tenant }}
"#,
        html: Some(
            r#"<p>Bonjour {{ customer.display_name }},</p>
<p>Je suis {{ sender.display_name }}, {{ sender.role }} chez {{ tenant }}, et je tenais à vous écrire personnellement.</p>
<p>J'ai pris connaissance de ce que vous avez vécu avec &laquo;&nbsp;{{ case.subject }}&nbsp;&raquo; et j'en suis désolé(e). Ce n'est pas le service que nous voulons offrir, et j'ai demandé à l'équipe d'en faire sa priorité.{% if case.owner %} {{ case.owner }} suit votre dossier personnellement.{% endif %}</p>
<p>J'aimerais beaucoup avoir de vos nouvelles. Vous pouvez nous joindre à {{ reply_to }} en indiquant la référence <strong>{{ case.reference }}</strong>&nbsp;; une personne vous répondra.</p>
<p>Bien sincèrement,<br>{{ sender.display_name }}<br>{{ sender.role }}, {{ tenant }}</p>
"#,
        ),
    },
    Builtin {
        key: PUBLIC_REPLY_DRAFT,
        audience: Customer,
        subject: "Projet de réponse à {{ review.author_handle }} sur {{ review.platform }} ({{ case.reference }})",
        text: r#"Bonjour {{ review.author_handle }},

{% if reply is defined %}
{{ reply }}
{% else %}
Merci pour votre avis, et toutes nos excuses : nous n'avons pas été à la hauteur. Ce n'est pas l'expérience que nous voulons offrir, et nous cherchons ce qui n'a pas fonctionné.
{% endif %}

Nous aimerions arranger les choses. Contactez-nous à {{ reply_to }} en indiquant la référence {{ case.reference }} afin qu'une personne s'en occupe sans attendre.

Le service client {{ tenant }}
"#,
        html: None,
    },
];
