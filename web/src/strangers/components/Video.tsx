import { useEffect, useRef, type RefObject } from 'react';

/** A <video> bound to a MediaStream (muted for our own picture, so no echo). */
export function Video({
  stream,
  muted,
  testId,
  className,
  label,
  videoRef,
}: {
  stream: MediaStream | null;
  muted?: boolean;
  testId: string;
  className: string;
  label: string;
  videoRef?: RefObject<HTMLVideoElement | null>;
}) {
  const ownRef = useRef<HTMLVideoElement>(null);
  const ref = videoRef ?? ownRef;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (muted) {
      el.muted = true;
      el.setAttribute('muted', '');
    }
    if (el.srcObject !== stream) el.srcObject = stream;
    if (stream) el.play().catch(() => undefined);
  }, [stream, muted]);
  return <video ref={ref} className={className} data-testid={testId} aria-label={label} muted={muted} autoPlay playsInline />;
}
