// The emulator's web console: pick a cloud and a bot, chat as a user, watch replies stream in (pushed
// by server-sent events), and see every REST call, the rate counters and the faults.
const $ = (selector) => document.querySelector(selector);
const api = async (path, init) => {
  const response = await fetch(`/_emulator/${path}`, {
    ...init,
    headers: { 'content-type': 'application/json' },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return response.json();
};

const state = { cloud: 'tencent', bot: undefined, failed: new Map() };
const user = () => $('#user').value.trim() || 'you';

function label(message) {
  if (state.failed.has(message.msgKey)) return 'failed';
  return message.state;
}

function describe(message, stateName) {
  if (stateName === 'failed') return `not delivered: ${state.failed.get(message.msgKey)}`;
  if (message.from === user()) return 'delivered';
  if (message.kind === 'stream')
    return `${stateName} · ${message.calls} call${message.calls === 1 ? '' : 's'}`;
  return stateName;
}

/** Draws one message, or redraws it in place as it grows. */
function drawMessage(message) {
  let item = document.getElementById(`m-${message.msgKey}`);
  if (!item) {
    item = document.createElement('li');
    item.id = `m-${message.msgKey}`;
    item.dataset.testid = 'message';
    item.innerHTML = '<span class="body"></span><span class="state"></span>';
    $('#messages').append(item);
  }
  const stateName = label(message);
  item.className = message.from === user() ? 'mine' : 'theirs';
  item.dataset.from = message.from;
  item.dataset.state = stateName;
  item.querySelector('.body').textContent = message.text;
  item.querySelector('.state').textContent = describe(message, stateName);
  const list = $('#messages');
  list.scrollTop = list.scrollHeight;
}

async function drawConversation() {
  $('#messages').replaceChildren();
  if (!state.bot) return;
  const messages = await api(
    `${state.cloud}/conversation?user=${encodeURIComponent(user())}&with=${encodeURIComponent(state.bot)}`,
  );
  for (const message of messages) drawMessage(message);
}

async function drawBots() {
  const bots = await api(`${state.cloud}/bots`);
  const list = $('#bots');
  list.replaceChildren();
  if (bots.length === 0)
    list.innerHTML = '<li class="empty">No bots yet: start a bot app, it creates its own.</li>';
  for (const bot of bots.filter((b) => b.valid)) {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.innerHTML = '<strong></strong><small></small>';
    button.querySelector('strong').textContent = bot.name || bot.userId;
    button.querySelector('small').textContent = bot.userId;
    button.setAttribute('aria-current', String(bot.userId === state.bot));
    button.addEventListener('click', () => selectBot(bot.userId, bot.name));
    item.append(button);
    list.append(item);
  }
  if (!state.bot && bots.length > 0) selectBot(bots[0].userId, bots[0].name);
}

function selectBot(userId, name) {
  state.bot = userId;
  $('#chat-title').textContent =
    `${name || userId} · ${state.cloud === 'tencent' ? 'Tencent Cloud Chat' : 'RongCloud'}`;
  $('#text').disabled = false;
  $('#send').disabled = false;
  for (const button of document.querySelectorAll('#bots button')) {
    button.setAttribute('aria-current', String(button.querySelector('small').textContent === userId));
  }
  void drawConversation();
}

async function drawCalls() {
  const [calls, rate] = await Promise.all([api(`${state.cloud}/calls?limit=40`), api(`${state.cloud}/rate`)]);
  $('#rate tbody').replaceChildren(
    ...Object.entries(rate).map(([name, c]) => {
      const row = document.createElement('tr');
      for (const value of [name, c.accepted, c.rejected, c.busiestWindow]) {
        const cell = document.createElement('td');
        cell.textContent = String(value);
        row.append(cell);
      }
      return row;
    }),
  );
  $('#calls').replaceChildren(
    ...calls.reverse().map((call) => {
      const item = document.createElement('li');
      const good = call.errorCode === 0 || call.errorCode === 200;
      const result =
        call.fault ??
        (call.status === undefined ? 'dropped' : `${call.status}${good ? '' : ` · ${call.errorCode}`}`);
      item.innerHTML = '<span class="time"></span><span class="api"></span><span class="result"></span>';
      item.querySelector('.time').textContent = new Date(call.time).toLocaleTimeString();
      item.querySelector('.api').textContent = call.api;
      item.querySelector('.result').textContent = result;
      item.querySelector('.result').className = call.fault ? 'fault' : good ? 'ok' : 'bad';
      return item;
    }),
  );
}

$('#composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('#text').value;
  if (!text.trim() || !state.bot) return;
  $('#text').value = '';
  const result = await api(`${state.cloud}/messages`, {
    method: 'POST',
    body: { from: user(), to: state.bot, text },
  });
  if (result.callback && !result.callback.ok) {
    state.failed.set(result.message.msgKey, result.callback.error ?? `HTTP ${result.callback.status}`);
    drawMessage(result.message);
  }
});

for (const button of document.querySelectorAll('#clouds button')) {
  button.addEventListener('click', () => {
    state.cloud = button.dataset.cloud;
    state.bot = undefined;
    for (const b of document.querySelectorAll('#clouds button'))
      b.setAttribute('aria-pressed', String(b === button));
    $('#chat-title').textContent = 'Pick a bot';
    $('#messages').replaceChildren();
    void drawBots();
    void drawCalls();
  });
}

$('#user').addEventListener('change', () => void drawConversation());

$('#faults').addEventListener('submit', async (event) => {
  event.preventDefault();
  const config = {};
  for (const [name, value] of new FormData(event.target)) if (Number(value) > 0) config[name] = Number(value);
  await api('faults', { method: 'PUT', body: config });
});
$('#clear-faults').addEventListener('click', async () => {
  $('#faults').reset();
  await api('faults', { method: 'PUT', body: {} });
});

const events = new EventSource('/_emulator/events');
events.addEventListener('message', (event) => {
  const { cloud, message } = JSON.parse(event.data);
  if (cloud !== state.cloud || !state.bot) return;
  const here = [message.from, message.to].sort().join('\u0000') === [user(), state.bot].sort().join('\u0000');
  if (here && !message.groupId) drawMessage(message);
});
events.addEventListener('bots', (event) => {
  if (JSON.parse(event.data).cloud === state.cloud) void drawBots();
});

void drawBots();
void drawCalls();
setInterval(drawCalls, 1500);
