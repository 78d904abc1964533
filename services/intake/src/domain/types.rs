//! The small value types the intake rules speak in: channels, customer tiers and severities,
//! with their mapping to and from the contract's enums.

use std::fmt;

use redress_proto::common::v1 as proto;

/// The channel a customer used. Unlike the contract's enum there is no "unspecified": a
/// value of this type is always a real channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A telephone call.
    Phone,
    /// An email to a support address.
    Email,
    /// A web form on the company's site or app.
    Web,
    /// Live chat or a messaging app.
    Chat,
    /// A public post on a social network.
    Social,
    /// A third-party review site.
    ReviewSite,
    /// A satisfaction survey response.
    Survey,
    /// Face to face, in a store, branch or on site.
    InPerson,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 8] =
        [Self::Phone, Self::Email, Self::Web, Self::Chat, Self::Social, Self::ReviewSite, Self::Survey, Self::InPerson];

    /// The channels a complaint may arrive on through `SubmitComplaint`; review sites and
    /// surveys have their own methods.
    pub const COMPLAINT_CHANNELS: [Channel; 6] =
        [Channel::Phone, Channel::Email, Channel::Web, Channel::Chat, Channel::Social, Channel::InPerson];

    /// The channel for a contract value; `None` for unspecified or unknown values.
    pub fn from_proto(value: i32) -> Option<Self> {
        match proto::Channel::try_from(value).ok()? {
            proto::Channel::Unspecified => None,
            proto::Channel::Phone => Some(Self::Phone),
            proto::Channel::Email => Some(Self::Email),
            proto::Channel::Web => Some(Self::Web),
            proto::Channel::Chat => Some(Self::Chat),
            proto::Channel::Social => Some(Self::Social),
            proto::Channel::ReviewSite => Some(Self::ReviewSite),
            proto::Channel::Survey => Some(Self::Survey),
            proto::Channel::InPerson => Some(Self::InPerson),
        }
    }

    /// The contract's value for this channel.
    pub fn to_proto(self) -> proto::Channel {
        match self {
            Self::Phone => proto::Channel::Phone,
            Self::Email => proto::Channel::Email,
            Self::Web => proto::Channel::Web,
            Self::Chat => proto::Channel::Chat,
            Self::Social => proto::Channel::Social,
            Self::ReviewSite => proto::Channel::ReviewSite,
            Self::Survey => proto::Channel::Survey,
            Self::InPerson => proto::Channel::InPerson,
        }
    }

    /// The channel in plain words, as it appears in reasons ("social media", "a review site").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Web => "web form",
            Self::Chat => "chat",
            Self::Social => "social media",
            Self::ReviewSite => "review site",
            Self::Survey => "survey",
            Self::InPerson => "in person",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The customer's tier in the loyalty or account programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CustomerTier {
    /// An ordinary customer, or one whose tier is not known.
    #[default]
    Standard,
    /// A valued customer with a premium service level.
    Gold,
    /// A very important customer.
    Vip,
}

impl CustomerTier {
    /// The tier for a contract value: unspecified is standard; `None` for unknown values.
    pub fn from_proto(value: i32) -> Option<Self> {
        match proto::CustomerTier::try_from(value).ok()? {
            proto::CustomerTier::Unspecified | proto::CustomerTier::Standard => Some(Self::Standard),
            proto::CustomerTier::Gold => Some(Self::Gold),
            proto::CustomerTier::Vip => Some(Self::Vip),
        }
    }

    /// The contract's value for the tier.
    pub fn to_proto(self) -> proto::CustomerTier {
        match self {
            Self::Standard => proto::CustomerTier::Standard,
            Self::Gold => proto::CustomerTier::Gold,
            Self::Vip => proto::CustomerTier::Vip,
        }
    }

    /// The tier in plain words ("VIP customer").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Standard => "standard customer",
            Self::Gold => "gold customer",
            Self::Vip => "VIP customer",
        }
    }
}

/// How serious a case is, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// An inconvenience; no financial or safety impact.
    Low,
    /// The usual complaint: something went wrong and needs putting right.
    Medium,
    /// Significant impact, a public complaint, a valued or repeat customer.
    High,
    /// Safety, injury, legal action, a regulator or a data breach.
    Critical,
}

impl Severity {
    /// One level up, stopping at `ceiling` (a severity already above the ceiling is kept).
    pub fn raised(self, ceiling: Severity) -> Severity {
        let up = match self {
            Self::Low => Self::Medium,
            Self::Medium => Self::High,
            Self::High | Self::Critical => Self::Critical,
        };
        if up > ceiling { self.max(ceiling) } else { up }
    }

    /// The severity in lower case, as it appears in reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The severity for a contract value; `None` for unspecified or unknown values.
    pub fn from_proto(value: i32) -> Option<Self> {
        match proto::Severity::try_from(value).ok()? {
            proto::Severity::Unspecified => None,
            proto::Severity::Low => Some(Self::Low),
            proto::Severity::Medium => Some(Self::Medium),
            proto::Severity::High => Some(Self::High),
            proto::Severity::Critical => Some(Self::Critical),
        }
    }

    /// The contract's value for this severity.
    pub fn to_proto(self) -> proto::Severity {
        match self {
            Self::Low => proto::Severity::Low,
            Self::Medium => proto::Severity::Medium,
            Self::High => proto::Severity::High,
            Self::Critical => proto::Severity::Critical,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_round_trip_and_refuse_unknown_values() {
        for channel in Channel::ALL {
            assert_eq!(Channel::from_proto(channel.to_proto() as i32), Some(channel));
        }
        assert_eq!(Channel::from_proto(0), None);
        assert_eq!(Channel::from_proto(99), None);
        assert_eq!(Channel::from_proto(-1), None);
    }

    #[test]
    fn severity_raises_stop_at_the_ceiling() {
        assert_eq!(Severity::Low.raised(Severity::High), Severity::Medium);
        assert_eq!(Severity::Medium.raised(Severity::High), Severity::High);
        assert_eq!(Severity::High.raised(Severity::High), Severity::High);
        assert_eq!(Severity::Critical.raised(Severity::High), Severity::Critical);
        assert_eq!(Severity::High.raised(Severity::Critical), Severity::Critical);
        assert_eq!(Severity::from_proto(Severity::Critical.to_proto() as i32), Some(Severity::Critical));
        assert_eq!(Severity::from_proto(0), None);
        assert_eq!(CustomerTier::from_proto(0), Some(CustomerTier::Standard));
        assert_eq!(CustomerTier::from_proto(3), Some(CustomerTier::Vip));
        assert_eq!(CustomerTier::from_proto(7), None);
    }
}
