"""Pictures of forecasts: prediction strips, GIFs, metric curves and loss history.

Everything draws on matplotlib's Agg canvas or with PIL; importing this
package never changes the user's matplotlib backend.
"""

from framecast.viz.curves import plot_loss_history, plot_metric_curves, read_loss_columns
from framecast.viz.gif import save_prediction_gif
from framecast.viz.strip import save_prediction_strip

__all__ = [
    "plot_loss_history",
    "plot_metric_curves",
    "read_loss_columns",
    "save_prediction_gif",
    "save_prediction_strip",
]
