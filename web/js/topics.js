// Topics: subscribe and unsubscribe, publish, and see what arrives. Subscriptions are restored
// after a reconnect (the server forgets a connection's subscriptions when it ends).

import { appendBounded } from './connection.js';

export function setupTopics(connection, ui) {
  const subscribed = new Set();

  const note = (text) => {
    ui.status.textContent = text;
  };

  const render = () => {
    ui.list.replaceChildren(
      ...[...subscribed].sort().map((topic) => {
        const item = document.createElement('li');
        const name = document.createElement('span');
        name.textContent = topic;
        const leave = document.createElement('button');
        leave.type = 'button';
        leave.textContent = 'Unsubscribe';
        leave.setAttribute('aria-label', `Unsubscribe from ${topic}`);
        leave.addEventListener('click', () => unsubscribe(topic));
        item.append(name, ' ', leave);
        return item;
      }),
    );
  };

  const subscribe = async (topic) => {
    try {
      await connection.request('subscribe', { topic });
      subscribed.add(topic);
      render();
      note(`Subscribed to ${topic}.`);
    } catch (error) {
      note(`Could not subscribe: ${error.message}`);
    }
  };

  const unsubscribe = async (topic) => {
    try {
      await connection.request('unsubscribe', { topic });
      subscribed.delete(topic);
      render();
      note(`Unsubscribed from ${topic}.`);
    } catch (error) {
      note(`Could not unsubscribe: ${error.message}`);
    }
  };

  ui.subscribeForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const topic = ui.topic.value.trim();
    if (topic) subscribe(topic);
  });

  ui.publishForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const topic = ui.publishTopic.value.trim();
    const text = ui.text.value;
    try {
      const reply = await connection.request('publish', { topic, text });
      note(`Published to ${topic}: delivered to ${reply.data.delivered} subscriber(s).`);
      ui.text.value = '';
    } catch (error) {
      note(`Could not publish: ${error.message}`);
    }
  });

  connection.addEventListener('message', ({ detail }) => {
    // A message carries text, application data (any JSON value), or both.
    const { topic, text, data } = detail.envelope.data;
    const item = document.createElement('li');
    const label = document.createElement('strong');
    label.textContent = `${topic}: `;
    const shown = [text, data === undefined ? undefined : JSON.stringify(data)].filter((part) => part !== undefined);
    // <bdi>: a right-to-left override in someone's message cannot reorder the rest of the line.
    const body = document.createElement('bdi');
    body.textContent = shown.join(' ');
    item.append(label, body);
    appendBounded(ui.messages, item);
  });

  // After a reconnect, one subscribe at a time (a burst of them could pass the server's rate
  // limit); one refused on rate_limited is tried again a second later. A topic the server does
  // not take back (its subscription limit may be lower now) leaves the list, and the note says so.
  // A restore that a newer one has replaced (the connection dropped and came back while it waited)
  // stops at its next step: one restore runs at a time.
  let restores = 0;
  const restore = async () => {
    const run = ++restores;
    const lost = [];
    for (const topic of [...subscribed]) {
      if (run !== restores) return;
      for (let attempt = 0; ; attempt += 1) {
        try {
          await connection.request('subscribe', { topic });
          break;
        } catch (error) {
          if (error.code === 'rate_limited' && attempt < 3) {
            await new Promise((resume) => setTimeout(resume, 1000));
            if (run !== restores) return;
            continue;
          }
          if (error.code !== undefined) lost.push(`${topic} (${error.code})`);
          else return;  // the connection ended: the next open restores them
          subscribed.delete(topic);
          break;
        }
      }
    }
    render();
    note(lost.length ? `Not subscribed again: ${lost.join(', ')}.` : `Subscriptions restored (${subscribed.size}).`);
  };

  connection.addEventListener('open', ({ detail }) => {
    if (detail.reconnected && subscribed.size > 0) restore();
  });
}
