// The connection status line: what the connection is doing, announced to screen readers.

// What a close code means, for the closes the server sends without a reason (docs/protocol.md).
const CLOSE_NAMES = {
  1002: 'protocol error',
  1003: 'binary data not accepted',
  1007: 'invalid data',
  1009: 'message too big',
};

export function setupStatus(connection, element) {
  connection.addEventListener('status', ({ detail }) => {
    element.dataset.state = detail.state;
    element.dataset.reconnects = String(connection.reconnects);
    switch (detail.state) {
      case 'connecting':
        element.textContent = 'Connecting…';
        break;
      case 'open':
        element.textContent = 'Connected';
        break;
      case 'reconnecting':
        element.textContent = `Connection lost (${detail.code}); reconnecting in ${(detail.delay / 1000).toFixed(1)} s`;
        break;
      case 'closed':
        element.textContent = `Closed by the server: ${detail.code} ${detail.reason || CLOSE_NAMES[detail.code] || ''}`.trim() +
          '. Reload to try again.';
        break;
    }
  });
}
