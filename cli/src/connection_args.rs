//! The API connection flags shared by the commands that talk to a server.

use std::path::PathBuf;

use auditwire::ConfigBuilder;

/// Where the API is and which certificates to trust; the key comes from WORKOS_API_KEY.
#[derive(clap::Args)]
pub struct ConnectionArgs {
    /// API base URL (else WORKOS_BASE_URL, else https://api.workos.com). The key comes from
    /// WORKOS_API_KEY.
    #[arg(long)]
    base_url: Option<String>,
    /// Trust only the CA certificates in this PEM file (a private or self-signed server).
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

impl ConnectionArgs {
    /// The builder with these settings applied.
    pub fn apply(&self, mut builder: ConfigBuilder) -> ConfigBuilder {
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url);
        }
        if let Some(ca) = &self.ca_file {
            builder = builder.ca_file(ca);
        }
        builder
    }
}
