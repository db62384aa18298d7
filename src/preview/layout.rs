//! CloudWatch's grid in pixels: the 24 columns become a fixed-width canvas and each grid row a
//! fixed height, so a widget's box keeps the proportions it has in the console and the text
//! budget of a box (how many lines, how many characters) follows from its size.

use crate::cloudwatch::dashboard::GRID_COLUMNS;

/// Pixels per grid column: 24 columns make a 1440 px wide grid.
pub const COLUMN_PX: u32 = 60;
/// Pixels per grid row.
pub const ROW_PX: u32 = 40;
/// Space between neighbouring boxes.
pub const GAP_PX: u32 = 8;
/// Space around the grid.
pub const MARGIN_PX: u32 = 16;
/// Height of the band above the grid with the dashboard's name.
pub const HEADER_PX: u32 = 56;
/// Height of a widget's title and type lines.
pub const WIDGET_HEAD_PX: u32 = 42;
/// Height of one line of the metric list.
pub const LINE_PX: u32 = 14;
/// Inner padding of a box.
pub const PAD_PX: u32 = 10;
/// Average advance of a character of the monospace body text (11 px DejaVu Sans Mono ≈ 0.6 em).
pub const BODY_CHAR_PX: f64 = 6.7;
/// Average advance of a character of a bold 14 px title (generous, so titles are not clipped).
pub const TITLE_CHAR_PX: f64 = 8.6;

/// A box in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The pixel box of a widget at grid position (`x`, `y`) with grid size `width` × `height`.
/// Saturating: a malformed body (width 0, huge y) gives a degenerate box, never a panic.
pub fn widget_rect(x: u32, y: u32, width: u32, height: u32) -> Rect {
    Rect {
        x: MARGIN_PX.saturating_add(x.saturating_mul(COLUMN_PX)),
        y: HEADER_PX.saturating_add(y.saturating_mul(ROW_PX)),
        width: width.saturating_mul(COLUMN_PX).saturating_sub(GAP_PX),
        height: height.saturating_mul(ROW_PX).saturating_sub(GAP_PX),
    }
}

/// Canvas size for widgets whose grid bottoms (`y + height`) are given: the full grid width
/// and everything down to the lowest widget.
pub fn canvas(bottoms: impl IntoIterator<Item = u32>) -> (u32, u32) {
    let rows = bottoms.into_iter().max().unwrap_or(0);
    (2 * MARGIN_PX + GRID_COLUMNS * COLUMN_PX, HEADER_PX.saturating_add(rows.saturating_mul(ROW_PX)).saturating_add(MARGIN_PX))
}

/// Characters of body text that fit on one line of a box `width_px` wide.
pub fn body_chars(width_px: u32) -> usize {
    (f64::from(width_px.saturating_sub(2 * PAD_PX)) / BODY_CHAR_PX) as usize
}

/// Characters of title text that fit on one line of a box `width_px` wide.
pub fn title_chars(width_px: u32) -> usize {
    (f64::from(width_px.saturating_sub(2 * PAD_PX)) / TITLE_CHAR_PX) as usize
}

/// Lines of body text that fit below the title in a box `height_px` high.
pub fn body_lines(height_px: u32) -> usize {
    (height_px.saturating_sub(WIDGET_HEAD_PX + PAD_PX) / LINE_PX) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_positions_map_to_pixels() {
        assert_eq!(widget_rect(0, 0, 24, 3), Rect { x: 16, y: 56, width: 1432, height: 112 });
        assert_eq!(widget_rect(12, 3, 12, 6), Rect { x: 16 + 720, y: 56 + 120, width: 712, height: 232 });
    }

    #[test]
    fn neighbours_never_touch() {
        let left = widget_rect(0, 0, 12, 6);
        let right = widget_rect(12, 0, 12, 6);
        let below = widget_rect(0, 6, 12, 6);
        assert!(left.x + left.width < right.x);
        assert!(left.y + left.height < below.y);
    }

    #[test]
    fn degenerate_sizes_do_not_panic() {
        assert_eq!(widget_rect(0, 0, 0, 0).width, 0);
        assert_eq!(widget_rect(u32::MAX, u32::MAX, u32::MAX, 1).x, u32::MAX);
        assert_eq!(body_lines(0), 0);
        assert_eq!(body_chars(0), 0);
    }

    #[test]
    fn canvas_covers_the_grid_and_the_lowest_widget() {
        assert_eq!(canvas([3, 9, 5]), (1472, 56 + 360 + 16));
        assert_eq!(canvas([]), (1472, 72));
    }

    #[test]
    fn text_budget_follows_box_size() {
        let full = widget_rect(0, 0, 24, 6);
        let half = widget_rect(0, 0, 12, 6);
        assert!(body_chars(full.width) > 2 * body_chars(half.width) - 2);
        assert_eq!(body_lines(half.height), (232 - 52) / 14);
    }
}
