//! The protocol side of `why403 mcp` (cargo feature `mcp`): the official Rust SDK (`rmcp`)
//! serving [`Tools`] over standard input and output.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt as _};

use super::tools::{Answer, TOOLS, Tools};
use crate::live::{LiveArgs, Shared};

/// The longest message read from the host. Tool arguments have their own, smaller limits
/// (16 MiB of text); this leaves room for the JSON escaping of a text at its limit. A longer
/// message is dropped by the transport, which logs it.
const MAX_MESSAGE: usize = 96 * 1024 * 1024;

pub(super) fn run(
    name: &'static str,
    version: &'static str,
    live: Option<(LiveArgs, Shared)>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    let server = Server {
        name,
        version,
        tools: Arc::new(Tools {
            registry: why403_rules::registry(),
            live,
        }),
    };
    let offered = server.tools.offered().count();
    log(&format!(
        "serving {offered} tools and {} rule documents on standard input and output (live reading {})",
        server.tools.resources().len(),
        if server.tools.live.is_some() {
            "allowed"
        } else {
            "off"
        }
    ));
    runtime.block_on(async move {
        let transport = AsyncRwTransport::new_server(tokio::io::stdin(), tokio::io::stdout())
            .with_max_line_length(MAX_MESSAGE);
        let running = server
            .serve(transport)
            .await
            .context("the MCP host did not start the session")?;
        let reason = running.waiting().await.context("the MCP server stopped")?;
        log(&format!("stopped: {reason:?}"));
        anyhow::Ok(())
    })?;
    // Tokio's standard input is read on a blocking thread that cannot be interrupted; it ends
    // with the process.
    runtime.shutdown_background();
    Ok(ExitCode::SUCCESS)
}

/// One line of the server's log, on standard error (standard output is the protocol).
fn log(line: &str) {
    eprintln!("why403 mcp: {}", why403_core::render::escape(line));
}

#[derive(Debug, Clone)]
struct Server {
    name: &'static str,
    version: &'static str,
    tools: Arc<Tools>,
}

impl Server {
    /// Runs a call on its own thread (the live source runs its own runtime, which cannot start
    /// on one of this runtime's threads), so that a failure inside why403 answers an error and
    /// the server keeps serving.
    async fn answer(&self, name: String, args: rmcp::model::JsonObject) -> Option<Answer> {
        let tools = self.tools.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("why403-mcp-call".to_owned())
            .spawn(move || {
                let _ = tx.send(tools.call(&name, &args));
            });
        if let Err(e) = spawned {
            return Some(Answer::error(format!("cannot start the call: {e}")));
        }
        rx.await.unwrap_or_else(|_| {
            Some(Answer::error(
                "the call failed inside why403 (a defect: please report it with the arguments)"
                    .to_owned(),
            ))
        })
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let mut info = Implementation::new(self.name, self.version);
        info.title = Some("why403: why an upload to Amazon S3 was refused".to_owned());
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(info)
        .with_instructions(
            "why403 explains why an upload to Amazon S3 was refused (403 AccessDenied, and its \
             400/405 cousins) from the real configuration, with a fix verified by re-evaluation. \
             Start with `explain_error` on the error text; when it names the upload, diagnose it \
             with `diagnose_live` (if offered) or, from a captured scenario, \
             `diagnose_scenario`. Quote the cause and the fix as the result gives them.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = self
            .tools
            .offered()
            .map(|t| {
                let mut tool = Tool::new(t.name, t.description, t.input_schema());
                tool.title = Some(t.title.to_owned());
                tool.annotations = Some(
                    ToolAnnotations::with_title(t.title)
                        .read_only(true)
                        .destructive(false)
                        .idempotent(!t.live)
                        .open_world(t.live),
                );
                tool
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let _ = name;
        // Arguments are checked by the tools themselves, with messages that say where.
        None
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let start = Instant::now();
        let name = request.name.to_string();
        if !TOOLS.iter().any(|t| t.name == name) {
            log(&format!("{name}: no such tool"));
            return Err(ErrorData::invalid_params(
                format!("no tool `{name}`; tools/list lists them"),
                None,
            ));
        }
        let args = request.arguments.unwrap_or_default();
        let Some(answer) = self.answer(name.clone(), args).await else {
            return Err(ErrorData::invalid_params(format!("no tool `{name}`"), None));
        };
        log(&format!(
            "{name}: {} in {} ms",
            answer.outcome,
            start.elapsed().as_millis()
        ));
        let mut result = if answer.failed {
            CallToolResult::error(vec![ContentBlock::text(answer.text)])
        } else {
            CallToolResult::success(vec![ContentBlock::text(answer.text)])
        };
        result.structured_content = answer.structured;
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = self
            .tools
            .resources()
            .into_iter()
            .map(|(uri, id, summary)| {
                Resource::new(uri, id)
                    .with_description(summary)
                    .with_mime_type("text/markdown")
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        match self.tools.resource(&request.uri) {
            Some(doc) => Ok(ReadResourceResult::new(vec![
                ResourceContents::text(doc, request.uri).with_mime_type("text/markdown"),
            ])
            .into()),
            None => Err(ErrorData::resource_not_found(
                format!(
                    "no resource `{}`; resources/list lists the rule documents",
                    request.uri
                ),
                None,
            )),
        }
    }
}
