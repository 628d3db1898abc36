import {
  Actions,
  Button,
  Card,
  CardText,
  Divider,
  Field,
  Fields,
  Image,
  LinkButton,
  parseMarkdown,
  Section,
} from 'chat';
import { describe, expect, it } from 'vitest';
import { cardToRich, ImbotFormatConverter, openButtonAction } from './postable.js';

describe('postables', () => {
  const converter = new ImbotFormatConverter();

  it('send markdown and text exactly as written, and mdast as markdown', () => {
    expect(converter.renderPostable('**hi** 1:2 ')).toBe('**hi** 1:2 ');
    expect(converter.renderPostable({ markdown: '# Title\n\n- a_b ' })).toBe('# Title\n\n- a_b ');
    expect(converter.renderPostable({ raw: '<raw>' })).toBe('<raw>');
    expect(converter.renderPostable({ ast: parseMarkdown('**bold** and `code`') })).toBe(
      '**bold** and `code`',
    );
  });

  it('turn a Chat SDK card into the neutral card, each button carrying its action and each link kept', () => {
    const card = Card({
      title: 'Deploy',
      subtitle: 'build 42',
      children: [
        Section([
          CardText('All checks passed.'),
          Image({ url: 'https://example.com/graph.png', alt: 'graph' }),
        ]),
        Divider(),
        Fields([Field({ label: 'Branch', value: 'main' })]),
        Actions([
          Button({ id: 'ship', label: 'Ship', value: '42' }),
          Button({ id: 'stop', label: 'Stop' }),
          LinkButton({ label: 'Logs', url: 'https://example.com/logs' }),
        ]),
      ],
    });
    const rich = cardToRich(card);
    expect(rich).toEqual({
      type: 'card',
      title: 'Deploy',
      text: expect.stringContaining('All checks passed.'),
      imageUrl: 'https://example.com/graph.png',
      buttons: [
        { type: 'message', title: 'Ship', value: '["ship","42"]' },
        { type: 'message', title: 'Stop', value: '["stop",null]' },
        { type: 'url', title: 'Logs', url: 'https://example.com/logs' },
      ],
    });
    expect(rich.text).toContain('build 42');
    expect(rich.text).toContain('Branch');
    expect(rich.buttons.flatMap((b) => (b.type === 'message' ? [openButtonAction(b.value)] : []))).toEqual([
      { actionId: 'ship', value: '42' },
      { actionId: 'stop' },
    ]);
  });

  it('read a value that is no button action of theirs as the action id', () => {
    for (const value of ['deploy', '["x"]', '[1,"a"]', '{"a":1}']) {
      expect(openButtonAction(value)).toEqual({ actionId: value });
    }
  });
});
