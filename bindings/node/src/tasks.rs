//! Work that waits (flush, close, management calls) runs on libuv's thread pool.

use std::sync::Arc;
use std::time::Duration;

use auditwire::Client;
use napi::{Env, Result, Task};

use crate::convert::ShutdownReportJs;
use crate::hub::Hub;

/// A blocking call on the client whose result is JSON text.
pub(crate) type Call = Box<dyn FnOnce(&Client) -> Result<String> + Send>;

/// Runs a management call off the event loop; resolves with its JSON text.
pub struct CallTask {
    pub(crate) client: Arc<Client>,
    pub(crate) call: Option<Call>,
}

impl Task for CallTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<String> {
        match self.call.take() {
            Some(call) => call(&self.client),
            None => Ok(String::from("null")),
        }
    }

    fn resolve(&mut self, _: Env, output: String) -> Result<String> {
        Ok(output)
    }
}

/// Waits for every accepted event (bounded); resolves with how many remain.
pub struct FlushTask {
    pub(crate) client: Arc<Client>,
    pub(crate) timeout: Duration,
}

impl Task for FlushTask {
    type Output = f64;
    type JsValue = f64;

    fn compute(&mut self) -> Result<f64> {
        Ok(self.client.flush(self.timeout) as f64)
    }

    fn resolve(&mut self, _: Env, output: f64) -> Result<f64> {
        Ok(output)
    }
}

/// Shuts the client down (bounded); resolves with what was not delivered.
pub struct CloseTask {
    pub(crate) client: Arc<Client>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) timeout: Duration,
}

impl Task for CloseTask {
    type Output = ShutdownReportJs;
    type JsValue = ShutdownReportJs;

    fn compute(&mut self) -> Result<ShutdownReportJs> {
        let report = self.client.shutdown_report(self.timeout);
        self.hub.sweep();
        Ok(report.into())
    }

    fn resolve(&mut self, _: Env, output: ShutdownReportJs) -> Result<ShutdownReportJs> {
        Ok(output)
    }
}
