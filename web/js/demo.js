// The original demo, on the JSON dialect: "Run WebSocket" says hello; the welcome comes back at
// once and the notice a second later, each shown as it arrives.

import { appendBounded } from './connection.js';

const GREETING = '亲爱的服务器！我连上你啦！';

export function setupDemo(connection, { button, log }) {
  const show = (text) => {
    const line = document.createElement('li');
    line.textContent = text;
    appendBounded(log, line);
  };
  connection.addEventListener('notice', ({ detail }) => show(detail.envelope.data.text));
  button.addEventListener('click', async () => {
    try {
      const welcome = await connection.request('hello', { text: GREETING });
      show(welcome.data.text);
    } catch (error) {
      show(`(${error.message})`);
    }
  });
}
