//! The desired state: the parameter table (`params`), its checked form (`desired`), and the
//! value types it is made of. Pure: no I/O.

pub mod desired;
pub mod flags;
pub mod json_args;
pub mod mode;
pub mod param_error;
pub mod params;
pub mod size;

#[cfg(test)]
mod properties;

pub use desired::{Desired, MqueueLimits, SizeTarget};
pub use flags::{Atime, Flag, MountFlags, OptionBits};
pub use mode::Mode;
pub use param_error::ParamError;
pub use params::{FsType, Init, Params, State};
pub use size::{Host, HumanBytes, Quantity};
