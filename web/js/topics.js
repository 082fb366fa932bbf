// Topics: subscribe and unsubscribe, publish, and see what arrives. Subscriptions are restored
// after a reconnect (the server forgets a connection's subscriptions when it ends).

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
    item.append(label, shown.join(' '));
    ui.messages.append(item);
  });

  connection.addEventListener('open', ({ detail }) => {
    if (detail.reconnected) for (const topic of subscribed) subscribe(topic);
  });
}
