//! The category taxonomy: which phrases point to which category, with what weight.
//!
//! A phrase is one or more words matched on folded text (see [`super::text`]): case and
//! accents do not matter, and `ne` matches only the whole word "ne". A `*` at the end
//! matches any ending (`refund*` finds "refunded"); a `*` at the start matches the end of a
//! longer word (`*paket` finds the German "Postpaket"). The defaults cover English with the
//! most common French, Spanish and German wording; a tenant replaces or extends them.

/// A phrase that points to a category, with how strongly.
#[derive(Debug, Clone, PartialEq)]
pub struct Phrase {
    /// The words, with an optional `*` at either end.
    pub text: String,
    /// How much one occurrence counts; a phrase counts once however often it appears.
    pub weight: f64,
}

/// One category of the taxonomy.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// The identifier stored on the case, for example `product_quality`.
    pub id: String,
    /// The category in plain words, as reasons show it, for example "product quality".
    pub label: String,
    /// The phrases that point to it.
    pub phrases: Vec<Phrase>,
}

/// A tenant's categories and how a category is chosen.
///
/// Each category scores the sum of the weights of the distinct phrases found. The highest
/// score wins, earlier categories winning ties; below `min_score` the complaint is filed
/// under the fallback. Confidence grows with the winning score (`1 − e^(−score/scale)`) and
/// shrinks when a runner-up is close.
#[derive(Debug, Clone, PartialEq)]
pub struct Taxonomy {
    /// The categories, most specific first.
    pub categories: Vec<Category>,
    /// The category for complaints that match none: its identifier.
    pub fallback_id: String,
    /// The fallback category in plain words.
    pub fallback_label: String,
    /// The least score that names a category.
    pub min_score: f64,
    /// The score at which confidence reaches about 0.63 (`1 − 1/e`).
    pub confidence_scale: f64,
}

fn phrases(groups: &[(f64, &[&str])]) -> Vec<Phrase> {
    groups
        .iter()
        .flat_map(|(weight, texts)| texts.iter().map(|t| Phrase { text: (*t).to_owned(), weight: *weight }))
        .collect()
}

fn category(id: &str, label: &str, groups: &[(f64, &[&str])]) -> Category {
    Category { id: id.to_owned(), label: label.to_owned(), phrases: phrases(groups) }
}

impl Default for Taxonomy {
    fn default() -> Self {
        Taxonomy {
            categories: vec![
                safety(),
                privacy(),
                staff_behaviour(),
                billing(),
                delivery(),
                product_quality(),
                technical(),
                service(),
            ],
            fallback_id: "other".to_owned(),
            fallback_label: "other".to_owned(),
            min_score: 1.5,
            confidence_scale: 2.0,
        }
    }
}

#[rustfmt::skip]
fn safety() -> Category {
    category("safety", "safety", &[
        (3.0, &[
            "unsafe", "not safe", "dangerous", "hazard*", "safety", "caught fire", "on fire",
            "burst into flames", "electric shock", "explod*", "blew up", "injur*", "allergic reaction",
            "anaphyla*", "food poisoning", "choking", "choked", "choking hazard", "wrong medication",
            "wrong medicine", "wrong dose", "wrong prescription", "mauvais medicament",
            "medicamento equivocado", "falsches medikament", "swallow*", "button battery", "small parts",
            "piece of glass", "shard*", "foreign object", "gas leak", "smell of gas", "gas smell",
            "carbon monoxide", "sharp edge*",
            // French, Spanish, German
            "dangereux", "dangereuse", "pris feu", "incendie", "blesse", "blessure*", "intoxication", "etouffe",
            "peligroso", "peligrosa", "incendio", "herido", "herida", "lesion", "intoxicacion", "se quemo",
            "gefahrlich*", "verletzt", "verletzung*", "lebensmittelvergiftung", "vergiftung", "explodiert",
            "stromschlag",
        ]),
        (2.5, &[
            "danger", "sparks", "sparking", "sparked", "overheat*", "burn", "burns", "burned", "burnt",
            "hospital", "allerg*", "poison*", "choke", "glass in", "fire hazard", "flames", "melted", "scalded",
            "hurt", "brule", "brulure*", "hopital", "urgences", "allergie", "etincelle*", "quemadura*",
            "quemado", "quemo", "chispas", "urgencias", "alergia", "peligro", "verbrannt", "verbrennung*",
            "krankenhaus", "notaufnahme", "gefahr", "funken",
        ]),
        (2.0, &[
            "fire", "smoke", "smoking", "vomit*", "bleeding", "stitches", "ambulance", "a and e", "slipped",
            "tripped", "feu", "fumee", "fuego", "humo", "feuer", "brand", "rauch",
        ]),
        (1.0, &[
            "child", "children", "baby", "toddler", "my son", "my daughter", "recall", "mi hijo", "mi hija",
            "mon fils", "ma fille",
        ]),
    ])
}

#[rustfmt::skip]
fn privacy() -> Category {
    category("privacy", "privacy", &[
        (3.0, &[
            "data breach", "privacy", "gdpr", "data protection", "subject access request", "personal data",
            "personal information", "identity theft", "without my consent", "another customers",
            "someone elses details", "someone elses personal", "someone elses name", "bank details",
            "donnees personnelles", "vie privee", "rgpd", "fuite de donnees", "protection des donnees",
            "datos personales", "privacidad", "proteccion de datos", "filtracion de datos", "datenschutz*",
            "personliche daten", "dsgvo", "datenleck", "datenpanne",
        ]),
        (2.5, &[
            "personal details", "my personal", "my data", "leaked", "hacked", "consent", "unsubscrib*",
            "opted out", "someone elses", "sold my", "shared my", "delete my data", "delete my account",
            "right to erasure", "right to be forgotten", "erase my data", "mes donnees", "consentement",
            "pirate", "mis datos", "consentimiento", "hackeado", "filtrado", "meine daten", "einwilligung",
            "gehackt",
        ]),
        (2.0, &[
            "marketing emails", "spam", "my details", "my address", "exposed", "confidential", "cookies",
            "access to my account", "desinscri*", "publicidad", "werbung",
        ]),
        (1.0, &["breach", "data", "donnees", "datos", "daten"]),
    ])
}

#[rustfmt::skip]
fn staff_behaviour() -> Category {
    category("staff_behaviour", "staff behaviour", &[
        (3.0, &[
            "rude", "rudely", "rudeness", "impolite", "unprofessional", "shouted", "yelled", "screamed at",
            "sworn at", "swore at", "laughed at", "insulted", "insulting", "condescending", "patronising",
            "patronizing", "disrespectful", "ignored me", "ignored us", "accused me", "accused us",
            "accusing me", "humiliat*", "racist", "sexist", "discriminat*", "harass*", "hung up on me",
            "impoli*", "grossier", "grossiere", "meprisant*", "insulte", "raccroche au nez", "maleducado",
            "maleducada", "mal educado", "mal educada", "grosero", "grosera", "me grito", "falta de respeto",
            "prepotente", "despectivo", "unhoflich", "unfreundlich", "angeschrien", "angeschnauzt",
            "respektlos", "herablassend",
        ]),
        (2.0, &[
            "attitude", "dismissive", "aggressive", "mocked", "ignored by", "behaviour", "behavior", "manner",
            "tone", "lied", "lying", "arrogant", "embarrass*", "followed me", "in front of everyone",
            "desagreable", "comportement", "a crie", "actitud", "comportamiento", "trato", "verhalten", "frech",
            "beleidigt", "arrogant*",
        ]),
        (1.5, &[
            "staff", "employee", "member of staff", "cashier", "waiter", "waitress", "receptionist",
            "sales assistant", "shop assistant", "security guard", "guard", "installer", "fitter", "salesman",
            "saleswoman", "the agent", "your agent", "the advisor", "vendeur", "vendeuse", "employe",
            "personnel", "caissier", "caissiere", "conseiller", "conseillere", "empleado", "empleada",
            "dependiente", "dependienta", "cajero", "cajera", "mitarbeiter*", "verkaufer*", "kassierer*",
            "angestellte*",
        ]),
        (0.5, &["manager", "driver", "engineer", "technician"]),
    ])
}

#[rustfmt::skip]
fn billing() -> Category {
    category("billing", "billing", &[
        (3.0, &[
            "charged twice", "double charged", "charged me twice", "overcharg*", "direct debit",
            "duplicate payment", "two payments", "wrong bill", "billing", "late payment fee", "late fee",
            "preleve*", "prelevement*", "deux fois", "facture*", "cobrado dos veces", "cobraron dos veces",
            "dos veces", "factura*", "cobro*", "doppelt abgebucht", "doppelte abbuchung", "abbuchung*",
            "abgebucht", "lastschrift", "rechnung*",
        ]),
        (2.0, &[
            "bill", "bills", "billed", "invoice*", "charged", "charges", "refund*", "payment*", "fee", "fees",
            "statement", "credit card", "debit card", "money back", "subscription", "price", "prices",
            "pricing", "tariff", "debited", "deducted", "auto renew*", "renewal", "cashback",
            "my account was charged", "mis sold", "missold", "cancel my contract", "cancelled my contract",
            "cancellation fee*", "afford", "resiliation", "dar de baja", "cancelacion", "kundigung",
            "gekundigt", "buchen", "rembours*", "paiement*", "debite", "abonnement", "frais", "tarif*", "prix",
            "cobraron", "cobrado", "cargo", "cargos", "reembolso*", "pago", "pagos", "suscripcion", "precio*",
            "tarjeta", "erstattung", "ruckerstattung", "zahlung*", "gebuhr*", "abo", "preis*", "geld zuruck",
            "konto",
        ]),
        (1.5, &["contract", "contrat", "contrato", "vertrag"]),
        (1.0, &[
            "charge", "paid", "pay", "money", "sold me", "jeden monat", "every month", "discount", "voucher",
            "receipt", "transaction*", "account balance", "vat", "paye", "argent", "pague", "dinero", "bezahlt",
            "geld",
        ]),
    ])
}

#[rustfmt::skip]
fn delivery() -> Category {
    category("delivery", "delivery", &[
        (3.0, &[
            "never arrived", "not arrived", "hasnt arrived", "havent arrived", "didnt arrive", "did not arrive",
            "never turned up", "never delivered", "not delivered", "wasnt delivered", "was not delivered",
            "where is my order", "where is my parcel", "lost in transit", "missed delivery", "delivery slot",
            "left on the doorstep", "left outside", "left in the rain", "wrong address", "tracking number",
            "wrong item", "wrong order", "sent the wrong", "sent me the wrong", "received the wrong",
            "hasnt been dispatched", "not been dispatched", "not yet shipped", "jamais arrive", "pas arrive",
            "jamais ete livre", "pas ete livre", "jamais recu", "pas recu", "nunca llego", "no ha llegado",
            "no llego", "no me ha llegado", "nunca me llego", "no he recibido", "nie angekommen",
            "nicht angekommen", "nicht zugestellt", "nie zugestellt", "nicht geliefert", "nie geliefert",
            "nicht erhalten",
        ]),
        (2.0, &[
            "deliver*", "parcel*", "courier*", "shipping", "shipment*", "tracking", "dispatch*", "doorstep",
            "postman", "postwoman", "next day", "items missing", "item missing", "missing items",
            "missing item", "never received", "not received", "click and collect", "arrived late",
            "still waiting for my order", "colis", "livraison*", "livreur*", "transporteur", "expedition",
            "expedie", "suivi", "paquete*", "envio", "envios", "entrega*", "entregado", "repartidor*",
            "mensajero", "seguimiento", "*paket", "paket*", "lieferung*", "geliefert", "zugestellt", "zustell*",
            "versand*", "kurier*", "sendungsverfolgung", "paketbote", "lieferdienst",
        ]),
        (1.5, &[
            "package*", "shipped", "arrived", "arrive", "arrival", "the post", "post office", "driver", "van",
            "address",
        ]),
        (1.0, &[
            "order", "ordered", "received", "late", "delay*", "commande", "retard*", "pedido", "retraso",
            "bestellung", "verspat*",
        ]),
    ])
}

#[rustfmt::skip]
fn product_quality() -> Category {
    category("product_quality", "product quality", &[
        (3.0, &[
            "faulty", "defect*", "stopped working", "poor quality", "fell apart", "not as described",
            "dead on arrival", "died after", "malfunction*", "shrank", "shrunk", "broke after", "broken after",
            "cracked", "defectueu*", "casse", "cassee", "ne fonctionne plus", "ne marche plus",
            "mauvaise qualite", "defectuoso", "defectuosa", "roto", "rota", "dejo de funcionar", "estropeado",
            "estropeada", "mala calidad", "kaputt", "defekt*", "mangelhaft", "schlechte qualitat",
            "funktioniert nicht mehr",
        ]),
        (2.0, &[
            "broken", "broke", "quality", "leak*", "torn", "ripped", "stain*", "mould*", "mold", "moldy",
            "expired", "out of date", "stale", "rotten", "tastes", "taste", "smelled", "smells", "faded",
            "warranty", "guarantee", "flimsy", "doesnt fit", "does not fit", "wrong size", "zip", "sole",
            "seams", "scratched", "dented", "wont turn on", "doesnt work", "does not work", "not working",
            "instruction*", "leaflet", "manual", "washing machine", "fridge", "kettle", "dishwasher", "hoover",
            "vacuum", "boiler", "cable", "qualite", "fonctionne pas", "marche pas", "abime", "abimee",
            "dechire", "dechiree", "garantie", "calidad", "no funciona", "garantia", "funktioniert nicht",
            "qualitat", "beschadigt", "gerissen", "waschmaschine", "different from the photo",
            "different from the picture", "not like the picture", "looks different", "fuit", "fuite", "gotea",
            "pierde agua", "undicht", "leckt", "tropft", "machine a cafe", "cafetiere", "lave linge", "frigo",
            "lavadora", "nevera", "frigorifico", "kuhlschrank", "kaffeemaschine", "freezer", "died", "tv",
            "television", "laptop", "headphones", "oven", "microwave", "toaster", "blender",
        ]),
        (1.0, &[
            "product", "item", "replacement", "material", "fabric", "cheap", "plastic", "battery", "screen",
            "damaged", "colour", "color", "size", "photo", "picture", "sofa", "chair", "table", "mattress",
            "jacket", "shoes", "dress", "trainers", "echange", "remplacement", "produit", "producto", "produkt",
            "artikel", "cambio", "umtausch",
        ]),
    ])
}

#[rustfmt::skip]
fn technical() -> Category {
    category("technical", "technical", &[
        (3.0, &[
            "error message", "wont load", "not loading", "keeps crashing", "crashes", "crashing", "glitch*",
            "outage", "login", "log in", "logged out", "password", "locked out", "verification code",
            "broadband", "router", "website is down", "website was down", "site is down", "page not found",
            "no internet", "sin internet", "kein internet", "pas d internet", "sans internet", "mot de passe",
            "site internet", "site web", "bug", "bugs", "plante", "connexion impossible", "contrasena",
            "iniciar sesion", "pagina web", "se cuelga", "no carga", "passwort", "fehlermeldung", "sturzt ab",
            "absturz*", "einloggen", "anmeldung", "webseite", "internetseite", "storung",
        ]),
        (2.0, &[
            "website", "web site", "app", "the app", "error", "errors", "software", "firmware", "update",
            "internet", "wifi", "wi fi", "signal", "disconnect*", "connection", "network", "server", "browser",
            "checkout", "online", "account locked", "two factor", "blank screen", "buffering", "offline",
            "application", "appli", "erreur", "connexion", "reseau", "panne", "aplicacion", "conexion", "fibra",
            "red movil", "sin conexion", "fehler", "verbindung", "netz", "ausfall", "wlan",
        ]),
        (1.0, &["system", "page", "code", "link", "speed", "slow", "down", "screen", "phone line", "linea"]),
    ])
}

#[rustfmt::skip]
fn service() -> Category {
    category("service", "service", &[
        (3.0, &[
            "customer service", "customer services", "customer support", "customer care", "on hold",
            "no response", "no reply", "nobody called", "no one called", "nobody got back", "no one got back",
            "never called back", "never got back", "call centre", "call center", "helpline", "passed around",
            "waiting time", "didnt turn up", "did not turn up", "no show", "response time", "kept waiting",
            "never came back", "never came", "didnt come", "did not come", "nobody came", "no one came",
            "never showed up", "didnt show up", "did not show up", "never called me back", "nobody has called",
            "service client", "service clientele", "aucune reponse", "sans reponse", "pas de reponse",
            "jamais rappele", "en attente", "atencion al cliente", "servicio al cliente",
            "servicio de atencion", "sin respuesta", "en espera", "nadie me llamo", "nadie me ha",
            "kundenservice", "kundendienst", "kundensupport", "hotline", "warteschleife", "keine antwort",
            "keine ruckmeldung", "nicht zuruckgerufen",
        ]),
        (2.0, &[
            "call back", "called back", "callback", "chased", "chasing", "ignored", "waited", "waiting",
            "queue", "appointment", "transferred", "complaint", "escalate*", "reference number", "ticket",
            "nobody", "no one", "hotel", "restaurant", "breakfast", "reception", "booking", "reservation",
            "check in", "opening hours", "cancellation", "cancelled", "canceled", "come back tomorrow",
            "come back later", "come back another day", "lift", "elevator", "toilets", "accessib*",
            "facilities", "parking", "room", "dirty", "cleanliness", "rappel*", "relance*", "attente",
            "reclamation", "personne ne", "reservation", "rendez vous", "esperando", "espera", "llame",
            "llamadas", "reclamacion", "nadie", "cita", "ruckruf", "gewartet", "warte", "niemand", "beschwerde",
            "termin",
        ]),
        (1.0, &[
            "service", "support", "called", "phoned", "emailed", "emails", "days", "weeks", "servicio",
            "semanas", "semaines", "wochen",
        ]),
        (0.5, &["store", "shop", "branch"]),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_well_formed() {
        let taxonomy = Taxonomy::default();
        assert_eq!(taxonomy.categories.len(), 8);
        for category in &taxonomy.categories {
            assert!(!category.phrases.is_empty(), "{}", category.id);
            for phrase in &category.phrases {
                assert!(phrase.weight > 0.0 && !phrase.text.trim().is_empty(), "{}: {phrase:?}", category.id);
                assert_eq!(phrase.text, phrase.text.to_lowercase(), "{}", phrase.text);
            }
        }
    }
}
