import { useRef, useState } from 'preact/hooks';
import { useT } from '../i18n';
import type { Key } from '../i18n';
import { Icon } from './Icon';
import type { IconName } from './Icon';
import { useMediaQuery } from './useMediaQuery';

export type Tool = 'members' | 'files' | 'readings' | 'report' | 'notifications' | 'status' | 'timeline' | 'followUps' | 'impact' | 'eightD';

const TOOLS: Array<{ id: Tool; label: Key; icon: IconName }> = [
  { id: 'members', label: 'tool.members', icon: 'members' },
  { id: 'files', label: 'tool.files', icon: 'files' },
  { id: 'readings', label: 'tool.readings', icon: 'chart' },
  { id: 'report', label: 'tool.report', icon: 'report' },
  { id: 'notifications', label: 'tool.notifications', icon: 'bell' },
  { id: 'status', label: 'tool.status', icon: 'status' },
  // The incident record (issue 17)
  { id: 'timeline', label: 'tool.timeline', icon: 'pin' },
  { id: 'followUps', label: 'tool.followUps', icon: 'edit' },
  { id: 'impact', label: 'tool.impact', icon: 'alert' },
  { id: 'eightD', label: 'tool.eightD', icon: 'report' },
];

/** Below this width the tools fold into an expandable bar. */
export const NARROW_QUERY = '(max-width: 767.98px)';

interface Props {
  onOpen: (tool: Tool) => void;
  memberCount: number;
  readingsOpen?: boolean;
}

/**
 * The room's tools. A toolbar on desktop (arrow keys move between tools, one
 * Tab stop); on narrow screens a "Room tools" button expands it with a height
 * animation that CSS switches off under prefers-reduced-motion.
 */
export function ActionBar({ onOpen, memberCount, readingsOpen }: Props) {
  const t = useT();
  const narrow = useMediaQuery(NARROW_QUERY);
  const [expanded, setExpanded] = useState(false);
  const [focusIndex, setFocusIndex] = useState(0);
  const refs = useRef<Array<HTMLButtonElement | null>>([]);
  const collapsed = narrow && !expanded;

  const onKeyDown = (ev: KeyboardEvent): void => {
    const last = TOOLS.length - 1;
    let next = focusIndex;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') next = focusIndex === last ? 0 : focusIndex + 1;
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') next = focusIndex === 0 ? last : focusIndex - 1;
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = last;
    else return;
    ev.preventDefault();
    setFocusIndex(next);
    refs.current[next]?.focus();
  };

  return (
    <div class={`action-bar${narrow ? ' narrow' : ''}${expanded ? ' expanded' : ''}`}>
      {narrow && (
        <button
          type="button"
          class="action-toggle"
          aria-expanded={expanded}
          aria-controls="room-tools"
          onClick={() => setExpanded((e) => !e)}
        >
          <Icon name="menu" /> {t('tool.bar')}
          <span class="chevron">
            <Icon name="chevron" />
          </span>
        </button>
      )}
      <div class="action-collapse" data-collapsed={collapsed ? 'true' : 'false'}>
        <div
          id="room-tools"
          class="action-tools"
          role="toolbar"
          aria-label={t('tool.bar')}
          onKeyDown={onKeyDown}
          inert={collapsed}
          aria-hidden={collapsed ? 'true' : undefined}
        >
          {TOOLS.map((tool, i) => (
            <button
              key={tool.id}
              ref={(el) => {
                refs.current[i] = el;
              }}
              type="button"
              class="tool"
              tabIndex={i === focusIndex ? 0 : -1}
              aria-pressed={tool.id === 'readings' ? Boolean(readingsOpen) : undefined}
              onFocus={() => setFocusIndex(i)}
              onClick={() => {
                // Stays expanded on narrow screens so focus can return here
                // when the tool's dialog closes.
                onOpen(tool.id);
              }}
            >
              <Icon name={tool.icon} /> {t(tool.label)}
              {tool.id === 'members' && memberCount > 0 && <span class="tool-count">{memberCount}</span>}
            </button>
          ))}
        </div>
      </div>
    </div>
  );
}
