/**
 * The composition root and HTTP adapter: {@link dev.fleet.migration.http.ControlPlane} wires the
 * store, the node agents, the proxy router and the orchestrator, and serves the control-plane
 * API ({@code api}), the Control Panel at {@code /}, {@code /metrics} and
 * {@code /api/openapi.json} on one {@code spark.Service} instance. {@code agent} holds the
 * node-agent API ({@code AgentServer}, over any {@code NodeAgent}) and its client
 * ({@code HttpNodeAgent}); {@code config} the YAML file; {@code cli} the {@code fleet} command;
 * {@code problem} the problem+json mapping; {@code security} tokens and TLS; {@code wire} the
 * JSON forms.
 */
package dev.fleet.migration.http;
