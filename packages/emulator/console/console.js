// The emulator's web console: pick a cloud, then a bot or a group, chat as a user, watch replies
// stream in (pushed by server-sent events), press the buttons of the cards bots send, and see every
// REST call, the rate counters, a live chart of the traffic against the limit, and the faults.
const $ = (selector) => document.querySelector(selector);
const api = async (path, init) => {
  const response = await fetch(`/_emulator/${path}`, {
    ...init,
    headers: { 'content-type': 'application/json' },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return response.json();
};
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

/** `view`: the chat shown, `{ kind: 'bot' | 'group', id }`. */
const state = {
  cloud: 'tencent',
  view: undefined,
  bots: [],
  groups: [],
  failed: new Map(),
  unanswered: new Map(),
};
const user = () => $('#user').value.trim() || 'you';
const cloudName = () => (state.cloud === 'tencent' ? 'Tencent Cloud Chat' : 'RongCloud');

function label(message) {
  if (state.failed.has(message.msgKey)) return 'failed';
  if (state.unanswered.has(message.msgKey)) return 'unanswered';
  return message.state;
}

function describe(message, stateName) {
  if (stateName === 'failed') return `not delivered: ${state.failed.get(message.msgKey)}`;
  if (stateName === 'unanswered') return `reached no bot: ${state.unanswered.get(message.msgKey)}`;
  if (message.from === user())
    return `${message.pressed ? 'button pressed' : 'delivered'}${message.readAt ? ' · read' : ''}`;
  if (message.kind === 'stream')
    return `${stateName} · ${message.calls} call${message.calls === 1 ? '' : 's'}`;
  return stateName;
}

/** How a mention reads: `@` and the id, but a robot's `@RBT#…` as it is (never `@@`). */
function tag(id) {
  return id.startsWith('@') ? id : `@${id}`;
}

/** Text with each `@id` of a mentioned user marked, and the reader's own mention stronger. */
function mentionedText(text, mentions = []) {
  const span = el('span', 'text');
  const ids = mentions.map(tag);
  if (ids.length === 0) {
    span.textContent = text;
    return span;
  }
  const pattern = new RegExp(`(${ids.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
  for (const part of text.split(pattern)) {
    if (ids.includes(part)) span.append(el('mark', part === tag(user()) ? 'mention me' : 'mention', part));
    else if (part) span.append(part);
  }
  return span;
}

/** An image, a file or a card, as a client renders it; a card's buttons press for the user. */
function richContent(message) {
  const content = message.content;
  if (content.type === 'image') {
    const image = el('img', 'image');
    image.src = content.url;
    image.alt = content.alt ?? 'image';
    return image;
  }
  if (content.type === 'file') {
    const link = el('a', 'file', `📄 ${content.name}`);
    link.href = content.url;
    link.target = '_blank';
    link.rel = 'noopener';
    return link;
  }
  const card = el('div', 'card');
  card.dataset.testid = 'card';
  if (content.imageUrl) {
    const image = el('img');
    image.src = content.imageUrl;
    image.alt = '';
    card.append(image);
  }
  if (content.title) card.append(el('strong', '', content.title));
  if (content.text) card.append(el('p', '', content.text));
  const buttons = el('div', 'buttons');
  for (const b of content.buttons) {
    if (b.type === 'url') {
      const link = el('a', 'button', b.title);
      link.href = b.url;
      link.target = '_blank';
      link.rel = 'noopener';
      buttons.append(link);
    } else {
      const button = el('button', 'button', b.title);
      button.type = 'button';
      button.addEventListener('click', () =>
        api(`${state.cloud}/presses`, {
          method: 'POST',
          body: { from: user(), msgKey: message.msgKey, value: b.value },
        }),
      );
      buttons.append(button);
    }
  }
  if (content.buttons.length > 0) card.append(buttons);
  return card;
}

/**
 * A branch card of TUIKit's AI-robot protocol (`src: 15`, `welcome_msg` or `clarify_msg`): its
 * title and its items, each of which a tap sends as the user's plain text message, as TUIKit does.
 */
function branchCard(data) {
  const content = data.content ?? {};
  const card = el('div', 'card branch');
  card.dataset.testid = 'branch-card';
  card.dataset.subtype = String(data.subtype ?? '');
  if (content.title) card.append(el('strong', '', content.title));
  if (content.content) card.append(el('p', '', content.content));
  const items = el('div', 'buttons');
  for (const item of content.items ?? []) {
    const button = el('button', 'button', item.content);
    button.type = 'button';
    button.addEventListener('click', () => void sendAsUser(item.content));
    items.append(button);
  }
  card.append(items);
  return card;
}

/** The body of a TUIKit AI-robot message: a stream's text, an error (`src: 23`), or a branch card. */
function chatbotBody(message) {
  const data = message.chatbot;
  if (data.src === 15) return branchCard(data);
  if (data.src === 23) return el('span', 'tuikit-error', `⚠ ${message.text}`);
  return mentionedText(message.text, message.mentions);
}

/** Draws one message, or redraws it in place as it grows, is edited or is recalled. */
function drawMessage(message) {
  let item = document.getElementById(`m-${message.msgKey}`);
  if (!item) {
    item = el('li');
    item.id = `m-${message.msgKey}`;
    item.dataset.testid = 'message';
    item.innerHTML = '<span class="from"></span><span class="body"></span><span class="state"></span>';
    $('#messages').append(item);
  }
  const stateName = label(message);
  item.className = message.from === user() ? 'mine' : 'theirs';
  item.hidden = message.silent === true;
  item.dataset.from = message.from;
  item.dataset.state = stateName;
  item.querySelector('.from').textContent = state.view?.kind === 'group' ? message.from : '';
  const body = item.querySelector('.body');
  item.dataset.chatbot = message.chatbot ? String(message.chatbot.src) : '';
  if (message.state === 'recalled') body.replaceChildren(el('em', 'recalled', 'This message was recalled'));
  else if (message.chatbot) body.replaceChildren(chatbotBody(message));
  else if (message.content) {
    // A client shows the card, image or file; the text beside it is only its fallback.
    const mentions = (message.mentions ?? []).map(tag).join(' ');
    body.replaceChildren(
      ...(mentions ? [mentionedText(mentions, message.mentions)] : []),
      richContent(message),
    );
  } else body.replaceChildren(mentionedText(message.text, message.mentions));
  // A reply shows the message it quotes above its own text, as the clouds' clients do.
  if (message.quote && message.state !== 'recalled') {
    const quote = el('blockquote', 'quote', message.quote.text || '(a message)');
    if (message.quote.from) quote.dataset.from = message.quote.from;
    body.prepend(quote);
  }
  item.querySelector('.state').textContent = describe(message, stateName);
  const list = $('#messages');
  list.scrollTop = list.scrollHeight;
  drawStop();
}

async function drawConversation() {
  $('#messages').replaceChildren();
  drawStop();
  drawTyping(undefined);
  const view = state.view;
  if (!view) return;
  const messages =
    view.kind === 'group'
      ? await api(`${state.cloud}/group?id=${encodeURIComponent(view.id)}`)
      : await api(
          `${state.cloud}/conversation?user=${encodeURIComponent(user())}&with=${encodeURIComponent(view.id)}`,
        );
  for (const message of messages) drawMessage(message);
}

function listButton(title, detail, current, onClick) {
  const item = el('li');
  const button = el('button');
  button.append(el('strong', '', title), el('small', '', detail));
  button.setAttribute('aria-current', String(current));
  button.addEventListener('click', onClick);
  item.append(button);
  return item;
}

async function drawBots() {
  state.bots = (await api(`${state.cloud}/bots`)).filter((b) => b.valid);
  const list = $('#bots');
  list.replaceChildren();
  if (state.bots.length === 0)
    list.innerHTML = '<li class="empty">No bots yet: start a bot app, it creates its own.</li>';
  for (const bot of state.bots) {
    const current = state.view?.kind === 'bot' && state.view.id === bot.userId;
    list.append(listButton(bot.name || bot.userId, bot.userId, current, () => select('bot', bot.userId)));
  }
  if (!state.view && state.bots.length > 0) select('bot', state.bots[0].userId);
  drawMembers();
}

async function drawGroups() {
  state.groups = await api(`${state.cloud}/groups`);
  const list = $('#groups');
  list.replaceChildren();
  if (state.groups.length === 0) list.innerHTML = '<li class="empty">No groups yet.</li>';
  for (const group of state.groups) {
    const bots = group.members.filter((m) => m.bot).length;
    const detail = `${group.members.length} members · ${bots} bot${bots === 1 ? '' : 's'}`;
    const current = state.view?.kind === 'group' && state.view.id === group.groupId;
    list.append(listButton(group.groupId, detail, current, () => select('group', group.groupId)));
  }
  drawMembers();
}

/** The open group's members (bots marked), the mention picker, and the bots that could join it. */
function drawMembers() {
  const view = state.view;
  const group = view?.kind === 'group' ? state.groups.find((g) => g.groupId === view.id) : undefined;
  $('#members').hidden = !group;
  $('#mention').hidden = !group;
  if (!group) return;
  $('#member-list').replaceChildren(
    ...group.members.map((m) => el('li', m.bot ? 'bot' : m.userId === user() ? 'me' : '', m.userId)),
  );
  const bots = group.members.filter((m) => m.bot).map((m) => m.userId);
  const picked = $('#mention').value;
  $('#mention').replaceChildren(
    new Option('mention nobody', ''),
    ...bots.map((id) => new Option(tag(id), id, false, id === picked || (!picked && id === bots[0]))),
  );
  const outside = state.bots.filter((b) => !group.members.some((m) => m.userId === b.userId));
  $('#add-bot').replaceChildren(
    new Option('add a bot…', ''),
    ...outside.map((b) => new Option(b.name || b.userId, b.userId)),
  );
  $('#add-bot').hidden = outside.length === 0;
}

function select(kind, id) {
  state.view = { kind, id };
  const bot = state.bots.find((b) => b.userId === id);
  $('#chat-title').textContent = `${kind === 'group' ? `Group ${id}` : bot?.name || id} · ${cloudName()}`;
  $('#text').disabled = false;
  $('#send').disabled = false;
  $('#text').placeholder = kind === 'group' ? 'Write to the group…' : 'Write to the bot…';
  for (const button of document.querySelectorAll('#bots button, #groups button')) {
    const inList = button.closest('ul').id === (kind === 'group' ? 'groups' : 'bots');
    const name =
      kind === 'group'
        ? button.querySelector('strong').textContent
        : button.querySelector('small').textContent;
    button.setAttribute('aria-current', String(inList && name === id));
  }
  drawMembers();
  void drawConversation();
  if (kind === 'bot') greet(id);
}

async function drawCalls() {
  const [calls, rate] = await Promise.all([api(`${state.cloud}/calls?limit=40`), api(`${state.cloud}/rate`)]);
  $('#rate tbody').replaceChildren(
    ...Object.entries(rate).map(([name, c]) => {
      const row = el('tr');
      for (const value of [name, c.accepted, c.rejected, c.busiestWindow])
        row.append(el('td', '', String(value)));
      return row;
    }),
  );
  $('#calls').replaceChildren(
    ...calls.reverse().map((call) => {
      const item = el('li');
      const good = call.errorCode === 0 || call.errorCode === 200;
      const result =
        call.fault ??
        (call.status === undefined ? 'dropped' : `${call.status}${good ? '' : ` · ${call.errorCode}`}`);
      item.append(
        el('span', 'time', new Date(call.time).toLocaleTimeString()),
        el('span', 'api', call.api),
        el('span', call.fault ? 'fault' : good ? 'ok' : 'bad', result),
      );
      return item;
    }),
  );
}

const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#0891b2'];
const svgEl = (tag, attributes, text) => {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
};

/** A polyline of `values` (one per second, null for none) in a `width`×`height` plot scaled to `max`. */
function series(values, max, width, height, color, className) {
  const step = width / Math.max(1, values.length - 1);
  const points = values.map(
    (v, i) => `${(i * step).toFixed(1)},${(height - ((v ?? 0) / max) * height).toFixed(1)}`,
  );
  return svgEl('polyline', {
    points: points.join(' '),
    fill: 'none',
    stroke: color,
    'stroke-width': 1.5,
    class: className,
  });
}

/**
 * The live chart: calls per second of the busiest APIs under the dashed budget line (the cloud's
 * limit per API), and the stream latency, drawn from `GET /_emulator/<cloud>/traffic` each second.
 */
async function drawTraffic() {
  const traffic = await api(`${state.cloud}/traffic`);
  const { limitPerSecond, seconds } = traffic;
  const totals = new Map();
  for (const second of seconds)
    for (const [name, n] of Object.entries(second.calls)) totals.set(name, (totals.get(name) ?? 0) + n);
  const busiest = [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, COLORS.length)
    .map(([name]) => name);
  const peak = Math.max(0, ...seconds.flatMap((s) => Object.values(s.calls)));
  const top = Math.max(limitPerSecond, peak) * 1.15;
  const [width, height] = [300, 100];
  const calls = $('#traffic-calls svg');
  const limitY = height - (limitPerSecond / top) * height;
  calls.replaceChildren(
    svgEl('line', { x1: 0, x2: width, y1: height, y2: height, class: 'axis' }),
    svgEl('line', { x1: 0, x2: width, y1: limitY, y2: limitY, class: 'limit', 'data-limit': limitPerSecond }),
    svgEl(
      'text',
      { x: width - 2, y: limitY - 3, class: 'limit-label', 'text-anchor': 'end' },
      `limit ${limitPerSecond}/s per API`,
    ),
    ...busiest.map((name, i) =>
      series(
        seconds.map((s) => s.calls[name] ?? 0),
        top,
        width,
        height,
        COLORS[i],
        'api-line',
      ),
    ),
  );
  $('#traffic-calls .legend').replaceChildren(
    ...busiest.map((name, i) => {
      const item = el(
        'li',
        '',
        `${name}: ${seconds.at(-1).calls[name] ?? 0}/s, peak ${Math.max(...seconds.map((s) => s.calls[name] ?? 0))}/s`,
      );
      item.style.setProperty('--color', COLORS[i]);
      return item;
    }),
    ...(seconds.some((s) => s.refused > 0)
      ? [el('li', 'refused', `refused: ${seconds.reduce((n, s) => n + s.refused, 0)}`)]
      : []),
  );
  const gaps = seconds.map((s) => s.streamGapMs);
  const worst = Math.max(0, ...gaps.filter((g) => g !== null));
  const latencyTop = Math.max(1000, worst * 1.15);
  const latency = $('#traffic-latency svg');
  latency.replaceChildren(
    svgEl('line', { x1: 0, x2: width, y1: 70, y2: 70, class: 'axis' }),
    svgEl(
      'text',
      { x: width - 2, y: 10, class: 'scale', 'text-anchor': 'end' },
      `${Math.round(latencyTop)} ms`,
    ),
    series(gaps, latencyTop, width, 70, '#dc2626', 'latency-line'),
    svgEl(
      'text',
      { x: 2, y: 10, class: 'scale' },
      worst > 0 ? `worst ${Math.round(worst)} ms` : 'no streams yet',
    ),
  );
}

$('#composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('#text').value;
  if (!text.trim() || !state.view) return;
  $('#text').value = '';
  await sendAsUser(text);
});

// The user stops the answer that streams. A TUIKit robot message is stopped as TUIKit does: a
// `{chatbotPlugin: 2, src: 22, msgKey}` naming it; any other stream with a stop word.
$('#stop').addEventListener('click', () => {
  const streaming = [...document.querySelectorAll('#messages li.theirs[data-state="streaming"]')].at(-1);
  const view = state.view;
  if (streaming?.dataset.chatbot === '2' && view?.kind === 'bot') {
    const msgKey = streaming.id.slice('m-'.length);
    void api(`${state.cloud}/chatbot`, {
      method: 'POST',
      body: { from: user(), to: view.id, data: { chatbotPlugin: 2, src: 22, msgKey } },
    });
  } else void sendAsUser('/stop');
});

/**
 * Opening a robot's chat greets it as TUIKit's robot plugin does (`{chatbotPlugin: 1, src: 7}`,
 * online-only, shown nowhere): a bot with a `welcome` answers with its welcome card.
 */
function greet(robotId) {
  if (state.cloud !== 'tencent') return;
  void api('tencent/chatbot', {
    method: 'POST',
    body: { from: user(), to: robotId, data: { chatbotPlugin: 1, src: 7 } },
  });
}

/** Sends `text` as the user into the chat shown (in a group, @-mentioning the bot picked). */
async function sendAsUser(text) {
  const view = state.view;
  if (!view) return;
  const result =
    view.kind === 'group'
      ? await api(`${state.cloud}/group-messages`, {
          method: 'POST',
          body: {
            from: user(),
            groupId: view.id,
            text,
            mentions: $('#mention').value ? [$('#mention').value] : [],
          },
        })
      : await api(`${state.cloud}/messages`, { method: 'POST', body: { from: user(), to: view.id, text } });
  if (result.callback && !result.callback.ok) {
    state.failed.set(result.message.msgKey, result.callback.error ?? `HTTP ${result.callback.status}`);
    drawMessage(result.message);
  } else if (view.kind === 'group' && !result.callback) {
    state.unanswered.set(result.message.msgKey, whyUnanswered(view.id, $('#mention').value));
    drawMessage(result.message);
  }
}

/** The stop button shows while a bot's reply in the chat shown still streams. */
function drawStop() {
  $('#stop').hidden = !document.querySelector('#messages li.theirs[data-state="streaming"]');
}

let typingTimer;
/** "typing…" under the chat while the bot's typing signal lasts, with the word it names. */
function drawTyping(status) {
  clearTimeout(typingTimer);
  const shown = status && status.until > Date.now();
  $('#typing').hidden = !shown;
  if (!shown) return;
  $('#typing').textContent = `${status.from} is typing…${status.statusText ? ` (${status.statusText})` : ''}`;
  typingTimer = setTimeout(() => drawTyping(undefined), status.until - Date.now());
}

/** Why a group message reached no bot: none mentioned, the one mentioned not a member, or no app. */
function whyUnanswered(groupId, mentioned) {
  if (!mentioned) return 'mention a bot to get an answer';
  const group = state.groups.find((g) => g.groupId === groupId);
  const member = group?.members.some((m) => m.userId === mentioned);
  if (!member) return `${tag(mentioned)} is not a member of this group: add it first`;
  return `no app is listening for ${tag(mentioned)} (no callback URL is set)`;
}

$('#new-group').addEventListener('submit', async (event) => {
  event.preventDefault();
  const groupId = $('#group-id').value.trim();
  if (!groupId) return;
  $('#group-id').value = '';
  await api(`${state.cloud}/groups`, { method: 'POST', body: { groupId, members: [user()] } });
  await drawGroups();
  select('group', groupId);
});

// Adding a bot stands in for the app's own call (addBotToGroup): the console makes it a member.
$('#add-bot').addEventListener('change', async () => {
  const bot = $('#add-bot').value;
  if (!bot || state.view?.kind !== 'group') return;
  await api(`${state.cloud}/groups`, { method: 'POST', body: { groupId: state.view.id, members: [bot] } });
});

function showCloud(cloud) {
  state.cloud = cloud;
  state.view = undefined;
  for (const b of document.querySelectorAll('#clouds button'))
    b.setAttribute('aria-pressed', String(b.dataset.cloud === cloud));
  $('#chat-title').textContent = 'Pick a bot or a group';
  $('#messages').replaceChildren();
  drawStop();
  drawTyping(undefined);
  void drawGroups().then(drawBots);
  void drawCalls();
  void drawTraffic();
}

for (const button of document.querySelectorAll('#clouds button')) {
  button.addEventListener('click', () => showCloud(button.dataset.cloud));
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
  const view = state.view;
  if (cloud !== state.cloud || !view) return;
  const here =
    view.kind === 'group'
      ? message.groupId === view.id
      : !message.groupId &&
        [message.from, message.to].sort().join('\u0000') === [user(), view.id].sort().join('\u0000');
  if (here) drawMessage(message);
});
events.addEventListener('typing', (event) => {
  const { cloud, status } = JSON.parse(event.data);
  const view = state.view;
  if (cloud !== state.cloud || view?.kind !== 'bot' || status.from !== view.id || status.to !== user())
    return;
  drawTyping(status);
});
events.addEventListener('bots', (event) => {
  if (JSON.parse(event.data).cloud === state.cloud) void drawBots();
});
events.addEventListener('groups', (event) => {
  if (JSON.parse(event.data).cloud === state.cloud) void drawGroups();
});

// `#rongcloud` (or `?cloud=rongcloud`) opens on that cloud's tab.
const asked = new URLSearchParams(location.search).get('cloud') ?? location.hash.slice(1);
showCloud(asked === 'rongcloud' ? 'rongcloud' : 'tencent');
setInterval(drawCalls, 1500);
setInterval(drawTraffic, 1000);
