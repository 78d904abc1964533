//! Classification throughput on one thread: classifies a fixed corpus of complaints for a
//! few seconds and prints complaints per second. Run with
//! `cargo bench -p redress-intake --bench classify`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use redress_intake::domain::{Channel, Classifier, ClassifierConfig, ComplaintInput, CustomerTier};

const CORPUS: &[(Channel, &str, &str)] = &[
    (
        Channel::Web,
        "Parcel never arrived",
        "My parcel never arrived. The tracking says delivered but nothing was left at my door and none of my neighbours have it. I would like a refund or a replacement sent by tracked courier.",
    ),
    (
        Channel::Email,
        "",
        "I was charged twice for order 44817 - two identical payments on my credit card statement. Please refund the duplicate as soon as possible, this has left me short for the month.",
    ),
    (Channel::Social, "", "@ShopCo worst service ever. On hold for 2 hours and then the line went dead. Never again."),
    (
        Channel::Phone,
        "Kettle fire",
        "The kettle I bought last week caught fire on the kitchen counter this morning. Nobody was hurt but the worktop is scorched.",
    ),
    (Channel::Chat, "", "Your driver was incredibly rude to my elderly mother and shouted at her on her own doorstep."),
    (
        Channel::Web,
        "App login",
        "The app keeps crashing whenever I try to log in, and the password reset email never comes. I have tried reinstalling twice.",
    ),
    (
        Channel::Email,
        "",
        "I received an email containing another customer's personal details, including their address and order history.",
    ),
    (
        Channel::Web,
        "Typo",
        "Just a minor point: the instruction leaflet in the box had a couple of typos. Not a big deal, the product works fine.",
    ),
    (
        Channel::Web,
        "",
        "Le colis n'est jamais arrivé et le suivi ne montre rien depuis dix jours. Je ne suis pas du tout content.",
    ),
    (Channel::Email, "", "Me han cobrado dos veces la factura de marzo. Quiero el reembolso del cargo duplicado."),
    (
        Channel::Web,
        "",
        "Das Paket wurde nie zugestellt, obwohl die Sendungsverfolgung 'zugestellt' anzeigt. Sehr enttäuschend.",
    ),
    (Channel::InPerson, "", "The cashier laughed at me when I asked for help and refused to call the manager."),
    (
        Channel::Email,
        "Washing machine, fourth time",
        "This is the fourth time I am writing about my washing machine. It still leaks after two repairs, the floor is ruined and the engineer never came back as promised. I am not happy at all and expect a full refund.",
    ),
    (
        Channel::Chat,
        "",
        "No problem at all with the product, but the delivery slot I booked was missed and nobody let me know.",
    ),
    (
        Channel::Web,
        "",
        "Your website was down all morning so I could not pay my bill before the deadline and now there is a late payment fee on my account.",
    ),
    (
        Channel::Email,
        "Formal complaint",
        "Dear Sir or Madam,\n\nI am writing to make a formal complaint about the service I received at your Leeds branch on 12 March. I waited over forty minutes to be seen, the member of staff who eventually served me was dismissive and could not answer basic questions about my account, and I was told to come back another day. When I phoned customer services afterwards I was transferred three times and then cut off. I have been a customer for eleven years and have never been treated like this. I would like an explanation, an apology and confirmation that the fee charged on my account that day will be refunded.\n\nYours faithfully,\nA. Customer",
    ),
];

fn main() {
    let classifier = match Classifier::new(ClassifierConfig::default()) {
        Ok(classifier) => classifier,
        Err(e) => {
            eprintln!("the default configuration does not compile: {e}");
            std::process::exit(1);
        }
    };
    let inputs: Vec<ComplaintInput<'_>> = CORPUS
        .iter()
        .enumerate()
        .map(|(i, (channel, subject, description))| ComplaintInput {
            tier: if i % 7 == 0 { CustomerTier::Vip } else { CustomerTier::Standard },
            recent_cases: (i % 4) as u32,
            ..ComplaintInput::new(*channel, subject, description)
        })
        .collect();
    let bytes_per_round: usize = CORPUS.iter().map(|(_, s, d)| s.len() + d.len()).sum();

    // Warm up, then measure for a few seconds.
    for input in &inputs {
        black_box(classifier.classify(black_box(input)));
    }
    let run_for = Duration::from_secs(3);
    let started = Instant::now();
    let mut classified: u64 = 0;
    let mut rounds: u64 = 0;
    while started.elapsed() < run_for {
        for input in &inputs {
            black_box(classifier.classify(black_box(input)));
        }
        classified += inputs.len() as u64;
        rounds += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    let per_second = classified as f64 / secs;
    println!(
        "classify: {classified} complaints in {secs:.2} s on one thread: {per_second:.0} complaints/s, {:.2} µs each, {:.1} MB/s (corpus of {} complaints, {} bytes on average)",
        1e6 / per_second,
        (rounds as f64 * bytes_per_round as f64) / secs / 1e6,
        inputs.len(),
        bytes_per_round / inputs.len(),
    );
}
