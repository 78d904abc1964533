//! The built-in templates in English.

use super::{
    ACKNOWLEDGEMENT, Builtin, ESCALATION_ALERT, INPUT_REQUEST, PUBLIC_REPLY_DRAFT, RESOLUTION_CONFIRMATION,
    RESOLUTION_OFFER, SATISFACTION_SURVEY, SENIOR_LEADER_EMAIL, STATUS_UPDATE,
};
use crate::domain::template::Audience::{Customer, Staff};

/// Every built-in template in `en`.
pub(super) const TEMPLATES: &[Builtin] = &[
    Builtin {
        key: ACKNOWLEDGEMENT,
        audience: Customer,
        subject: "We are sorry: your complaint {{ case.reference }} is with us",
        text: r#"Dear {{ customer.display_name }},

Thank you for telling us about "{{ case.subject }}". We are sorry that we let you down, and we understand how frustrating this must be.

Your complaint is now case {{ case.reference }}{% if case.owner %}, and {{ case.owner }} will look after it from start to finish{% endif %}.
{% if case.desired_outcome %}

You told us you would like {{ case.desired_outcome }}. We will keep that in mind as we look into what went wrong.
{% endif %}

We will write again with news soon. To speak to a person, reply to this message or contact {{ reply_to }}, quoting {{ case.reference }}.

With our apologies,
The {{ tenant }} customer care team
"#,
        html: Some(
            r#"<p>Dear {{ customer.display_name }},</p>
<p>Thank you for telling us about &ldquo;{{ case.subject }}&rdquo;. We are sorry that we let you down, and we understand how frustrating this must be.</p>
<p>Your complaint is now case <strong>{{ case.reference }}</strong>{% if case.owner %}, and {{ case.owner }} will look after it from start to finish{% endif %}.</p>
{% if case.desired_outcome %}
<p>You told us you would like {{ case.desired_outcome }}. We will keep that in mind as we look into what went wrong.</p>
{% endif %}
<p>We will write again with news soon. To speak to a person, reply to this message or contact {{ reply_to }}, quoting <strong>{{ case.reference }}</strong>.</p>
<p>With our apologies,<br>The {{ tenant }} customer care team</p>
"#,
        ),
    },
    Builtin {
        key: STATUS_UPDATE,
        audience: Customer,
        subject: "News on your complaint {{ case.reference }}",
        text: r#"Dear {{ customer.display_name }},

{% if update is defined %}
Here is where things stand with your complaint {{ case.reference }}: {{ update }}
{% else %}
We are still working on your complaint {{ case.reference }} and have not forgotten you. We will write again as soon as there is news.
{% endif %}

If you have a question, reply to this message or contact {{ reply_to }}, quoting {{ case.reference }}; a person will answer.

Kind regards,
The {{ tenant }} customer care team
"#,
        html: Some(
            r#"<p>Dear {{ customer.display_name }},</p>
{% if update is defined %}
<p>Here is where things stand with your complaint <strong>{{ case.reference }}</strong>: {{ update }}</p>
{% else %}
<p>We are still working on your complaint <strong>{{ case.reference }}</strong> and have not forgotten you. We will write again as soon as there is news.</p>
{% endif %}
<p>If you have a question, reply to this message or contact {{ reply_to }}, quoting <strong>{{ case.reference }}</strong>; a person will answer.</p>
<p>Kind regards,<br>The {{ tenant }} customer care team</p>
"#,
        ),
    },
    Builtin {
        key: INPUT_REQUEST,
        audience: Customer,
        subject: "A question about your complaint {{ case.reference }}",
        text: r#"Dear {{ customer.display_name }},

To put things right, we need a little more from you:

{{ question }}

Simply reply to this message, or contact {{ reply_to }} quoting {{ case.reference }}. As soon as we hear from you, a person will pick your case up again.

Thank you,
The {{ tenant }} customer care team
"#,
        html: Some(
            r#"<p>Dear {{ customer.display_name }},</p>
<p>To put things right, we need a little more from you:</p>
<blockquote>{{ question }}</blockquote>
<p>Simply reply to this message, or contact {{ reply_to }} quoting <strong>{{ case.reference }}</strong>. As soon as we hear from you, a person will pick your case up again.</p>
<p>Thank you,<br>The {{ tenant }} customer care team</p>
"#,
        ),
    },
    Builtin {
        key: RESOLUTION_OFFER,
        audience: Customer,
        subject: "Our proposal to put things right ({{ case.reference }})",
        text: r#"Dear {{ customer.display_name }},

Thank you for your patience while we looked into your complaint {{ case.reference }}. To put things right, we would like to offer you {{ offer.description }}{% if offer.amount %} ({{ offer.amount }}){% endif %}.

Please tell us whether this works for you: reply to this message or contact {{ reply_to }}, quoting {{ case.reference }}. If it is not what you hoped for, say so; a person will talk it through with you.

Kind regards,
The {{ tenant }} customer care team
"#,
        html: Some(
            r#"<p>Dear {{ customer.display_name }},</p>
<p>Thank you for your patience while we looked into your complaint <strong>{{ case.reference }}</strong>. To put things right, we would like to offer you {{ offer.description }}{% if offer.amount %} (<strong>{{ offer.amount }}</strong>){% endif %}.</p>
<p>Please tell us whether this works for you: reply to this message or contact {{ reply_to }}, quoting <strong>{{ case.reference }}</strong>. If it is not what you hoped for, say so; a person will talk it through with you.</p>
<p>Kind regards,<br>The {{ tenant }} customer care team</p>
"#,
        ),
    },
    Builtin {
        key: RESOLUTION_CONFIRMATION,
        audience: Customer,
        subject: "Your complaint {{ case.reference }} is resolved",
        text: r#"Dear {{ customer.display_name }},

Your complaint {{ case.reference }} ("{{ case.subject }}") is now resolved. Thank you for giving us the chance to put it right, and sorry again for the trouble.

How did we do? Your answer takes a minute and helps us stop this happening to anyone else:
{{ survey_link }}

If anything is still not right, reply to this message or contact {{ reply_to }}, quoting {{ case.reference }}, and a person will pick it up again straight away.

Kind regards,
The {{ tenant }} customer care team
"#,
        html: Some(
            r#"<p>Dear {{ customer.display_name }},</p>
<p>Your complaint <strong>{{ case.reference }}</strong> (&ldquo;{{ case.subject }}&rdquo;) is now resolved. Thank you for giving us the chance to put it right, and sorry again for the trouble.</p>
<p>How did we do? Your answer takes a minute and helps us stop this happening to anyone else: <a href="{{ survey_link }}">tell us how we did</a>.</p>
<p>If anything is still not right, reply to this message or contact {{ reply_to }}, quoting <strong>{{ case.reference }}</strong>, and a person will pick it up again straight away.</p>
<p>Kind regards,<br>The {{ tenant }} customer care team</p>
"#,
        ),
    },
    Builtin {
        key: SATISFACTION_SURVEY,
        audience: Customer,
        subject: "How did we do with your complaint {{ case.reference }}?",
        text: r#"Dear {{ customer.display_name }},

A few days ago we resolved your complaint {{ case.reference }} ("{{ case.subject }}"). We would like to know how we did; it takes a minute:
{{ survey_link }}

If the problem has come back, reply to this message or contact {{ reply_to }}, quoting {{ case.reference }}, and a person will take it up again.

Thank you,
The {{ tenant }} customer care team
"#,
        html: Some(
            r#"<p>Dear {{ customer.display_name }},</p>
<p>A few days ago we resolved your complaint <strong>{{ case.reference }}</strong> (&ldquo;{{ case.subject }}&rdquo;). We would like to know how we did; it takes a minute: <a href="{{ survey_link }}">answer the survey</a>.</p>
<p>If the problem has come back, reply to this message or contact {{ reply_to }}, quoting <strong>{{ case.reference }}</strong>, and a person will take it up again.</p>
<p>Thank you,<br>The {{ tenant }} customer care team</p>
"#,
        ),
    },
    Builtin {
        key: ESCALATION_ALERT,
        audience: Staff,
        subject: "Escalation level {{ escalation.level }}: {{ case.reference }} ({{ case.severity }}) {{ case.subject }}",
        text: r#"{{ staff.display_name }},

Case {{ case.reference }} has escalated to level {{ escalation.level }}.

Why: {{ escalation.reason }}
Clock: {{ escalation.clock if escalation.clock else "none (unhappy customer or by hand)" }}
Subject: {{ case.subject }}
Customer: {{ customer.display_name }}
Severity: {{ case.severity }}
Status: {{ case.status }}
Owner: {{ case.owner if case.owner else "nobody yet" }}
Team: {{ case.team if case.team else "none" }}
Opened: {{ case.create_time }}

The customer is waiting: please act now. The case is {{ case.name }}.
"#,
        html: Some(
            r#"<p>{{ staff.display_name }},</p>
<p>Case <strong>{{ case.reference }}</strong> has escalated to level <strong>{{ escalation.level }}</strong>.</p>
<table>
<tr><th align="left">Why</th><td>{{ escalation.reason }}</td></tr>
<tr><th align="left">Clock</th><td>{{ escalation.clock if escalation.clock else "none (unhappy customer or by hand)" }}</td></tr>
<tr><th align="left">Subject</th><td>{{ case.subject }}</td></tr>
<tr><th align="left">Customer</th><td>{{ customer.display_name }}</td></tr>
<tr><th align="left">Severity</th><td>{{ case.severity }}</td></tr>
<tr><th align="left">Status</th><td>{{ case.status }}</td></tr>
<tr><th align="left">Owner</th><td>{{ case.owner if case.owner else "nobody yet" }}</td></tr>
<tr><th align="left">Team</th><td>{{ case.team if case.team else "none" }}</td></tr>
<tr><th align="left">Opened</th><td>{{ case.create_time }}</td></tr>
</table>
<p>The customer is waiting: please act now. The case is {{ case.name }}.</p>
"#,
        ),
    },
    Builtin {
        key: SENIOR_LEADER_EMAIL,
        audience: Customer,
        subject: "A personal note about your complaint {{ case.reference }}",
        text: r#"Dear {{ customer.display_name }},

I am {{ sender.display_name }}, {{ sender.role }} at {{ tenant }}, and I wanted to write to you myself.

I have read about your experience with "{{ case.subject }}", and I am sorry. It is not the service we aim to give, and I have asked the team to make putting it right their priority.
{% if case.owner %}

{{ case.owner }} is looking after your case personally.
{% endif %}

I would like to hear from you. You can reach us at {{ reply_to }}, quoting {{ case.reference }}, and a person will answer.

Yours sincerely,
{{ sender.display_name }}
{{ sender.role }}, {{ tenant }}
"#,
        html: Some(
            r#"<p>Dear {{ customer.display_name }},</p>
<p>I am {{ sender.display_name }}, {{ sender.role }} at {{ tenant }}, and I wanted to write to you myself.</p>
<p>I have read about your experience with &ldquo;{{ case.subject }}&rdquo;, and I am sorry. It is not the service we aim to give, and I have asked the team to make putting it right their priority.{% if case.owner %} {{ case.owner }} is looking after your case personally.{% endif %}</p>
<p>I would like to hear from you. You can reach us at {{ reply_to }}, quoting <strong>{{ case.reference }}</strong>, and a person will answer.</p>
<p>Yours sincerely,<br>{{ sender.display_name }}<br>{{ sender.role }}, {{ tenant }}</p>
"#,
        ),
    },
    Builtin {
        key: PUBLIC_REPLY_DRAFT,
        audience: Customer,
        subject: "Draft reply to {{ review.author_handle }} on {{ review.platform }} ({{ case.reference }})",
        text: r#"Hi {{ review.author_handle }},

{% if reply is defined %}
{{ reply }}
{% else %}
Thank you for your review, and we are sorry we let you down. This is not the experience we want anyone to have, and we are looking into what went wrong.
{% endif %}

We would like to put this right. Please get in touch at {{ reply_to }} and quote {{ case.reference }} so that a person can pick it up straight away.

{{ tenant }} customer care
"#,
        html: None,
    },
];
