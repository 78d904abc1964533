//! Realistic complaints with the category and severity a contact-centre supervisor would
//! give them, classified with the default configuration. The expected answers are the
//! supervisor's, not the classifier's: the test reports how often the two agree and holds
//! the classifier to at least 90 % on category and 80 % on severity.

use redress_intake::domain::{Channel, Classifier, ClassifierConfig, ComplaintInput, CustomerTier, Severity};

use Channel::{Chat, Email, InPerson, Phone, Social, Web};
use CustomerTier::{Gold, Standard, Vip};
use Severity::{Critical, High, Low, Medium};

struct Case {
    channel: Channel,
    tier: CustomerTier,
    recent_cases: u32,
    text: &'static str,
    category: &'static str,
    severity: Severity,
}

const fn case(
    channel: Channel,
    tier: CustomerTier,
    recent_cases: u32,
    text: &'static str,
    category: &'static str,
    severity: Severity,
) -> Case {
    Case { channel, tier, recent_cases, text, category, severity }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    case(Web, Standard, 0, "My parcel never arrived. The tracking says delivered but nothing was left at my door.", "delivery", Medium),
    case(Email, Standard, 0, "I was charged twice for order 44817 - two identical payments on my credit card statement. Please refund the duplicate.", "billing", Medium),
    case(Social, Standard, 0, "@ShopCo worst service ever. On hold for 2 hours and then the line went dead. Never again.", "service", High),
    case(Phone, Standard, 0, "The kettle I bought last week caught fire on the kitchen counter this morning.", "safety", Critical),
    case(Chat, Standard, 0, "Your driver was incredibly rude to my elderly mother and shouted at her on her own doorstep.", "staff_behaviour", High),
    case(Web, Standard, 0, "The app keeps crashing whenever I try to log in, and the password reset email never comes.", "technical", Medium),
    case(Email, Standard, 0, "I received an email containing another customer's personal details, including their address and order history.", "privacy", Critical),
    case(Web, Standard, 0, "Just a minor point: the instruction leaflet in the box had a couple of typos. Not a big deal, the product works fine.", "product_quality", Low),
    case(Phone, Vip, 0, "My monthly invoice shows a roaming fee for a trip I never took.", "billing", High),
    case(Email, Standard, 3, "This is the fourth time I am writing about my washing machine. It still leaks after two repairs.", "product_quality", High),
    case(Web, Standard, 0, "Le colis n'est jamais arrivé et le suivi ne montre rien depuis dix jours.", "delivery", Medium),
    case(Email, Standard, 0, "Me han cobrado dos veces la factura de marzo. Quiero el reembolso del cargo duplicado.", "billing", Medium),
    case(Web, Standard, 0, "Das Paket wurde nie zugestellt, obwohl die Sendungsverfolgung 'zugestellt' anzeigt.", "delivery", Medium),
    case(InPerson, Standard, 0, "Le vendeur a été très impoli et m'a parlé de façon méprisante devant les autres clients.", "staff_behaviour", Medium),
    case(Phone, Standard, 0, "Mi hijo se quemó la mano con el cargador, se calentó muchísimo y echó chispas.", "safety", Critical),
    case(Email, Standard, 0, "Ich werde meinen Anwalt einschalten, wenn die falsche Rechnung nicht sofort korrigiert wird.", "billing", Critical),
    case(Web, Standard, 0, "I'm not happy with the quality of the jacket, the zip broke after two days.", "product_quality", Medium),
    case(Chat, Standard, 0, "No problem at all with the product, but the delivery slot I booked was missed and nobody let me know.", "delivery", Medium),
    case(Web, Standard, 0, "Not bad overall, but the website checkout page gives an error when I use a voucher code.", "technical", Medium),
    case(Social, Standard, 0, "Three weeks and still no refund for my returned sofa. Absolutely disgusted. #ShopCo", "billing", High),
    case(Email, Standard, 0, "I have reported this to the Financial Ombudsman because you ignored my complaint about the late payment fee.", "billing", Critical),
    case(Web, Standard, 0, "Your engineer didn't turn up for the appointment and no one called to explain. I took a day off work for nothing.", "service", Medium),
    case(Phone, Standard, 0, "I've been waiting on hold for forty minutes every time I call your customer service line.", "service", Medium),
    case(Chat, Gold, 0, "The broadband has dropped out every evening this week and the router keeps restarting.", "technical", Medium),
    case(InPerson, Standard, 0, "The cashier laughed at me when I asked for help and refused to call the manager.", "staff_behaviour", Medium),
    case(Email, Standard, 0, "I keep getting marketing emails even though I unsubscribed twice. Stop using my data without my consent.", "privacy", Medium),
    case(Web, Standard, 0, "The yoghurt was out of date when it arrived and smelled sour.", "product_quality", Medium),
    case(Web, Standard, 0, "My son found a piece of glass in his cereal bowl. He could have choked.", "safety", Critical),
    case(Social, Vip, 0, "Paid for next-day delivery, still nothing after a week. Very disappointed, expected better.", "delivery", High),
    case(Email, Standard, 2, "Again my bill is wrong. You promised last month that the discount would be applied.", "billing", High),
    case(Web, Standard, 0, "Your website was down all morning so I could not pay my bill before the deadline.", "technical", Medium),
    case(Phone, Standard, 0, "The heating engineer left a gas smell in the hallway and we had to call the emergency line.", "safety", Critical),
    case(Chat, Standard, 0, "La aplicación no me deja iniciar sesión, dice contraseña incorrecta aunque la he cambiado.", "technical", Medium),
    case(Email, Standard, 0, "Je n'ai jamais reçu de réponse du service client malgré trois relances.", "service", Medium),
    case(Web, Standard, 0, "Der Mitarbeiter an der Kasse war extrem unfreundlich und hat mich angeschrien.", "staff_behaviour", Medium),
    case(InPerson, Standard, 0, "The dress shrank after the first wash even though I followed the care label exactly.", "product_quality", Medium),
    case(Web, Standard, 0, "I was overcharged for delivery: the site said free shipping over £50 but I paid £4.99.", "billing", Medium),
    case(Email, Standard, 0, "Someone hacked my account and changed my address; your team says it's not their problem.", "privacy", Critical),
    case(Chat, Standard, 0, "Thank you for the quick reply yesterday. Just to let you know the replacement cable also doesn't fit, no rush.", "product_quality", Low),
    case(Social, Standard, 0, "Waited 25 minutes in store and the staff just ignored us. Terrible.", "staff_behaviour", High),
    case(Web, Standard, 0, "My package was left in the rain outside the front door and everything inside is soaked.", "delivery", Medium),
    case(Email, Standard, 0, "Ich habe eine doppelte Abbuchung auf meinem Konto und bekomme vom Kundenservice keine Antwort.", "billing", Medium),
    case(Phone, Standard, 4, "Fifth call this month about the same missing refund. I am fed up and want this escalated.", "billing", High),
    case(Web, Standard, 0, "El repartidor dejó el paquete en la calle y ahora no aparece.", "delivery", Medium),
    case(Email, Standard, 0, "The microwave sparks every time I switch it on. I'm scared to use it.", "safety", Critical),
    case(Web, Standard, 0, "I would like to know why my subscription price went up without any notice.", "billing", Medium),
    case(Chat, Standard, 0, "Le site web affiche une erreur à chaque fois que je veux payer.", "technical", Medium),
    case(Email, Standard, 0, "Your agent on the phone told me to stop wasting her time and hung up on me.", "staff_behaviour", Medium),
    case(Web, Standard, 0, "I don't have any complaint about the staff, they were lovely, but my order arrived with two items missing.", "delivery", Medium),
    case(Social, Standard, 0, "Not happy. My new phone screen cracked the first time I used it. Looks like cheap plastic.", "product_quality", High),
    case(Email, Standard, 0, "Die Waschmaschine ist nach drei Wochen kaputt und der Kundendienst meldet sich nicht.", "product_quality", Medium),
    case(Web, Standard, 0, "We were a little disappointed that the hotel breakfast finished early, nothing serious.", "service", Low),
    case(Phone, Vip, 0, "Nobody has called me back about my cancelled flight booking, despite three promises.", "service", High),
    case(Chat, Standard, 0, "J'ai été prélevé deux fois ce mois-ci pour le même abonnement.", "billing", Medium),
    case(Web, Standard, 0, "Las zapatillas se rompieron a la semana, la suela se despegó. Muy mala calidad.", "product_quality", Medium),
    case(Email, Standard, 0, "My elderly father has had no heating for five days because your engineer never came back.", "service", High),
    case(Email, Standard, 0, "Hi, I ordered a blender on the 3rd and it still hasn't been dispatched. Can you tell me when it will ship?", "delivery", Medium),
    case(Chat, Standard, 0, "The checkout keeps telling me my card was declined but my bank says the payment went through three times.", "billing", Medium),
    case(Web, Standard, 0, "Bonjour, la machine à café fuit depuis le premier jour. Je voudrais un échange.", "product_quality", Medium),
    case(Phone, Standard, 0, "The installer smashed my hallway mirror and then denied it, very unprofessional.", "staff_behaviour", Medium),
    case(Social, Standard, 0, "Your new app update wiped all my saved addresses and now I can't log in at all. Fix it!", "technical", High),
    case(Email, Standard, 0, "I asked you to delete my account and all my data under GDPR six weeks ago and have heard nothing.", "privacy", High),
    case(InPerson, Standard, 0, "The security guard followed me around the store and accused me of stealing in front of everyone.", "staff_behaviour", High),
    case(Web, Standard, 0, "Ordered a size 10, received a size 6. Second time this has happened with your shop.", "delivery", Medium),
    case(Chat, Standard, 0, "Mi factura de la luz es el doble que el mes pasado sin ninguna explicación.", "billing", Medium),
    case(Email, Standard, 0, "Ich habe seit drei Wochen kein Internet und niemand kommt, um die Störung zu beheben.", "technical", High),
    case(Phone, Gold, 1, "The replacement fridge you sent is also broken, the freezer doesn't get cold.", "product_quality", Medium),
    case(Web, Standard, 0, "Your advert said 50% off but the price at the till was full price. That's misleading advertising.", "billing", Medium),
    case(Social, Standard, 0, "Loved the food but the waiter was so rude to my kids. Won't be back.", "staff_behaviour", High),
    case(Email, Standard, 0, "The toy's battery compartment opens easily and my toddler nearly swallowed a button battery.", "safety", Critical),
    case(Web, Standard, 0, "Your courier drove over my lawn and damaged the fence when delivering.", "delivery", Medium),
    case(Email, Standard, 0, "The contract you sent me has someone else's name, address and bank details on it.", "privacy", Critical),
    case(Web, Standard, 0, "Pedí una pizza sin gluten y me trajeron una normal; soy celíaca y he pasado la noche vomitando.", "safety", Critical),
    case(Phone, Standard, 0, "I'm calling on behalf of my mum who is in a wheelchair; the lift in your store has been broken for a month.", "service", High),
    case(Web, Standard, 0, "The hotel room was dirty and the shower didn't work. Not what we paid for.", "service", Medium),
    case(Chat, Standard, 0, "Honestly not a huge problem, but the colour of the sofa is a bit different from the photo.", "product_quality", Low),
    case(Social, Vip, 5, "Fifth complaint this month, your support team keeps closing my tickets without fixing anything.", "service", High),
    case(Email, Standard, 0, "I returned the boots a month ago and I'm still waiting for my money back.", "billing", Medium),
    case(Chat, Standard, 0, "The engineer was lovely but the new boiler still isn't heating the water.", "product_quality", Medium),
    case(Social, Standard, 0, "Shoutout to @ShopCo for selling me a TV that died after 3 weeks. Brilliant. Not.", "product_quality", High),
    case(Web, Standard, 0, "Le livreur a jeté mon colis par-dessus le portail, tout est cassé.", "delivery", Medium),
    case(Phone, Standard, 0, "My grandmother was sold a phone contract she doesn't understand and can't afford.", "billing", High),
    case(Email, Standard, 0, "Sie haben meine Kündigung ignoriert und buchen weiterhin jeden Monat ab.", "billing", Medium),
    case(Web, Standard, 0, "The store's card machine was broken so I couldn't pay, and the staff told me to come back tomorrow.", "service", Medium),
    case(Chat, Standard, 0, "Estoy harta, llevo tres semanas sin internet y nadie me da una solución.", "technical", High),
    case(InPerson, Standard, 0, "The pharmacist gave me the wrong medication and I only noticed at home.", "safety", Critical),
    case(Social, Standard, 0, "Booked a table for 8pm, waited 45 minutes, food came cold. Shocking service @BistroCo", "service", High),
    case(Web, Standard, 0, "The password reset link in your email has expired every time I click it.", "technical", Medium),
    case(Phone, Vip, 0, "The sofa delivery was rescheduled three times and nobody told me in advance.", "delivery", High),
    case(Email, Standard, 0, "I want to make a formal complaint about the manager at your Leeds branch, who swore at my son.", "staff_behaviour", High),
    case(Web, Standard, 0, "Les frais de résiliation n'étaient mentionnés nulle part dans le contrat.", "billing", Medium),
    case(Chat, Standard, 0, "Tiny thing, but the app shows prices in dollars instead of euros.", "technical", Low),
];

#[test]
fn the_classifier_agrees_with_a_supervisor() {
    let classifier = Classifier::new(ClassifierConfig::default()).expect("the default configuration compiles");
    let (mut category_ok, mut severity_ok) = (0usize, 0usize);
    for case in CASES {
        let input = ComplaintInput {
            tier: case.tier,
            recent_cases: case.recent_cases,
            ..ComplaintInput::new(case.channel, "", case.text)
        };
        let triage = classifier.classify(&input);
        let category_agrees = triage.category == case.category;
        let severity_agrees = triage.severity == case.severity;
        category_ok += usize::from(category_agrees);
        severity_ok += usize::from(severity_agrees);
        if !category_agrees || !severity_agrees {
            println!(
                "disagreement: {:?}\n  supervisor: {} / {}\n  classifier: {} / {}\n  reasons: {:?}",
                case.text, case.category, case.severity, triage.category, triage.severity, triage.reasons
            );
        }
    }
    let n = CASES.len();
    let pct = |k: usize| 100.0 * k as f64 / n as f64;
    println!("category agreement {category_ok}/{n} ({:.1}%)", pct(category_ok));
    println!("severity agreement {severity_ok}/{n} ({:.1}%)", pct(severity_ok));
    assert!(n >= 40, "the table holds at least 40 complaints");
    assert!(pct(category_ok) >= 90.0, "category agreement {category_ok}/{n} is under 90%");
    assert!(pct(severity_ok) >= 80.0, "severity agreement {severity_ok}/{n} is under 80%");
}
