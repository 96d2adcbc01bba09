/**
 * Archive transports: {@link dev.fleet.migration.transport.RsyncTransport} (the rsync program
 * over ssh), {@link dev.fleet.migration.transport.ScpTransport} (jsch, SFTP for resumable
 * offsets) and {@link dev.fleet.migration.transport.SharedDirectoryTransport} (a path both nodes
 * mount). SSH ones share {@link dev.fleet.migration.transport.SshSettings}; helpers live in
 * {@code internal}.
 */
package dev.fleet.migration.transport;
